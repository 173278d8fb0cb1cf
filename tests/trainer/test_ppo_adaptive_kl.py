"""The adaptive controller (Ziegler et al. 2019) holds the measured KL near its target;
without a penalty the KL runs far past it."""

import pytest

from tests.trainer.ppo_helpers import KL_TARGET, metrics, word_run_adaptive, word_run_without_kl

pytestmark = pytest.mark.trainer


def test_it_moves_the_coefficient_by_the_clipped_proportional_error():
    from trainer.ppo.kl import AdaptiveKLController, FixedKLController

    ctl = AdaptiveKLController(0.1, target=6.0, horizon=10_000)
    ctl.update(6.6, 512)  # 10% above target: β·(1 + 0.1·512/10000)
    assert ctl.value == pytest.approx(0.1 * 1.00512)
    ctl.update(60.0, 512)  # far above: the error is clipped at +20%
    assert ctl.value == pytest.approx(0.1 * 1.00512 * 1.01024)
    ctl.update(0.0, 10_000)  # far below, a whole horizon of responses: −20%
    assert ctl.value == pytest.approx(0.1 * 1.00512 * 1.01024 * 0.8)
    fixed = FixedKLController(0.1)
    fixed.update(60.0, 512)
    assert fixed.value == 0.1


def test_it_ends_within_half_the_target_while_no_penalty_drifts_far_above(runs_dir):
    adaptive = metrics(word_run_adaptive(runs_dir).out)
    free = metrics(word_run_without_kl(runs_dir).out)
    kl_adaptive = sum(r["objective/kl"] for r in adaptive[-10:]) / 10
    kl_free = sum(r["objective/kl"] for r in free[-10:]) / 10
    assert 0.5 * KL_TARGET <= kl_adaptive <= 1.5 * KL_TARGET, kl_adaptive
    assert kl_free > 5 * KL_TARGET, kl_free


def test_it_logs_the_coefficient_and_the_measured_kl_every_step(runs_dir):
    rows = metrics(word_run_adaptive(runs_dir).out)
    assert [r["step"] for r in rows] == list(range(1, 41))
    assert all("kl_coef" in r and "objective/kl" in r for r in rows)
    coefs = [r["kl_coef"] for r in rows]
    assert coefs[0] == 0.3 and len(set(coefs)) == 40  # it moved at every step
    # β fell while the KL was below target (the first steps) and rose when it went above.
    assert coefs[3] < coefs[0] and max(coefs) > coefs[3]
    assert all(r["kl_coef"] == 0.0 for r in metrics(word_run_without_kl(runs_dir).out))
