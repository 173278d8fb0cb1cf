import pytest

from labelhub.training import services as training
from tests.loop.conftest import first_round, judge_new_version, run_queued

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.trainer, pytest.mark.loop]


def test_it_closes_the_loop_with_a_reward_model_and_ppo(lead, data_dir):
    round1 = first_round(lead, with_reward_model=True)
    assert round1.reward_run.produced_reward_model.held_out_accuracy > 0.6
    ppo = training.run_create(campaign=round1.campaign, user=lead, kind="ppo", policy=round1.base,
                              reward_model=round1.reward_run.produced_reward_model,
                              config={"steps": 30, "batch_size": 16, "kl_coef": 0.05, "kl_target": 3.0})
    run_queued(round1.campaign)  # PPO; success registers the new version and queues its generation
    ppo.refresh_from_db()
    assert ppo.metrics.filter(values__has_key="objective/kl").count() >= 30
    new, board = judge_new_version(round1, ppo)
    standing = {s.policy.name: s for s in board.standings}
    print({name: (round(s.strength, 2), round(s.low, 2), round(s.high, 2), s.comparisons) for name, s in standing.items()})
    assert standing[new.name].strength > 0, "the PPO version should lead the base under the hidden preference"
    assert board.win_rates[new.pk][round1.base.pk] > 0.5
