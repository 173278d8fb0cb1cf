"""The demo's loop with DPO (docs/loop.md, "What the tests check"): the new version leads the
base on the leaderboard. Sequences are cut at 128 tokens: the demo's hand-written answers run to
~300 and made the DPO run six times longer. Measured over DPO seeds 0-3 (the config's seed; one
trainer thread): +0.63 [-0.00, 1.24], +1.25 [0.57, 1.91], +0.57 [0.00, 1.17], +0.39 [-0.28, 1.01],
win rates 0.60-0.65: small, so the test asserts the direction. Fewer steps do not keep it (seed 0:
75 steps -0.34; 75 steps at LR 2e-3 0.00; 64 tokens +0.39), docs/loop.md."""

import pytest

from labelhub.training import services as training
from tests.loop.conftest import first_round, judge_new_version, run_queued

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.trainer, pytest.mark.loop]


def test_it_closes_the_loop_with_dpo(lead, data_dir):
    round1 = first_round(lead)
    dpo = training.run_create(
        campaign=round1.campaign,
        user=lead,
        kind="dpo",
        policy=round1.base,
        snapshot=round1.snapshot,
        config={"max_steps": 150, "beta": 0.1, "learning_rate": 1e-3, "max_length": 128},
    )
    run_queued(round1.campaign)
    dpo.refresh_from_db()
    assert dpo.summary["status"] == "succeeded"
    new, board = judge_new_version(round1, dpo)
    standing = {s.policy.name: s for s in board.standings}
    print(
        {
            name: (round(s.strength, 2), round(s.low, 2), round(s.high, 2), s.comparisons)
            for name, s in standing.items()
        }
    )
    assert standing[new.name].strength > 0, (
        "the DPO version should lead the base under the hidden preference"
    )
    assert board.win_rates[new.pk][round1.base.pk] > 0.5
