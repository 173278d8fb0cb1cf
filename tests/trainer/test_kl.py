import pytest

pytestmark = pytest.mark.trainer


def _evaluate(out, prompts_file, **kw):
    from trainer.evaluate import EvaluateConfig, run

    return run(EvaluateConfig(out=str(out), prompts=str(prompts_file), max_new_tokens=24, progress="off", **kw)).summary


def test_it_measures_zero_kl_of_the_reference_against_itself(tiny_models, prompts_file, runs_dir):
    s = _evaluate(runs_dir / "eval-self", prompts_file, policy="tiny")
    assert s["kl_per_token"] == pytest.approx(0.0, abs=1e-6)
    assert s["kl_k1_per_token"] == pytest.approx(0.0, abs=1e-6)


def test_it_measures_positive_kl_after_dpo(dpo_run, prompts_file, runs_dir):
    s = _evaluate(runs_dir / "eval-dpo", prompts_file, policy=str(dpo_run.out))
    assert s["kl_per_token"] > 0.01
    assert s["kl_per_sequence"] == pytest.approx(s["kl_per_token"] * s["mean_tokens"], rel=1e-6)


def test_it_estimates_kl_with_k1_and_k3_near_the_exact_value():
    import torch

    from trainer.logprobs import exact_kl, kl_estimate

    p = torch.tensor([0.5, 0.25, 0.125, 0.125])
    q = torch.tensor([0.25, 0.25, 0.25, 0.25])
    exact = float((p * (p / q).log()).sum())  # 0.125 * ln 2 * 2 = 0.1733
    assert float(exact_kl(p.log()[None], q.log()[None])) == pytest.approx(exact, rel=1e-6)
    gen = torch.Generator().manual_seed(0)
    x = torch.multinomial(p, 200_000, replacement=True, generator=gen)
    logp, logq = p.log()[x], q.log()[x]
    for estimator in ("k1", "k3"):
        assert float(kl_estimate(logp, logq, estimator).mean()) == pytest.approx(exact, abs=0.005)
    assert float(kl_estimate(logp, logq, "k3").min()) >= 0
