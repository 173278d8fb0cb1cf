"""The demo's loop with DPO (docs/loop.md, "What the tests check"): the new version leads the
base on the leaderboard. Sequences are cut at 128 tokens: the demo's hand-written answers run to
~300 and made the DPO run six times longer.

100 DPO steps, not 150: ~20-25 s less of the suite's time. Measured over DPO seeds 0-3 (this test
with `seed` added to the DPO config, LABELHUB_TRAINER_THREADS=1; the sampling and the labelers
fixed): Bradley-Terry strength over the base [95% interval] in 36 comparisons, win rate over the
base, and the DPO run's implicit-reward accuracy on the snapshot's held-out pairs:

| seed | 100 steps (the test) | 150 steps |
|---|---|---|
| 0 | +0.45 [-0.07, 1.05], 0.61, 0.869 | +0.63 [-0.00, 1.24], 0.65, 0.902 |
| 1 | +0.96 [0.26, 1.64], 0.72, 0.887 | +1.25 [0.57, 1.91] |
| 2 | +0.39 [-0.22, 1.03], 0.60, 0.767 | +0.57 [0.00, 1.17], 0.64, 0.858 |
| 3 | +0.28 [-0.34, 0.90], 0.57, 0.795 | +0.39 [-0.28, 1.01], 0.60, 0.830 |

Small at either size, so the test asserts the direction (and the accuracy above 0.7). Fewer steps
do not keep the direction: seed 0 at 75 steps -0.34, at 75 steps and LR 2e-3 0.00 (docs/loop.md)."""

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
        config={"max_steps": 100, "beta": 0.1, "learning_rate": 1e-3, "max_length": 128},
    )
    run_queued(round1.campaign)
    dpo.refresh_from_db()
    assert dpo.summary["status"] == "succeeded"
    # it learned the labelers' judgments: 0.77-0.89 on the held-out pairs over seeds 0-3
    assert dpo.summary["eval_reward_accuracy"] > 0.7, dpo.summary
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
