"""k1 and k3, summed over a response's tokens, estimate the KL of whole responses."""

import pytest


def test_it_estimates_the_exact_kl_of_two_token_responses_with_k1_and_k3():
    import torch

    from trainer.ppo.kl import kl_penalty

    # A hand-built policy p and reference q over responses of two tokens from {0, 1, 2}:
    # the first token from p1 / q1, the second from p2[x1] / q2[x1].
    p1, q1 = torch.tensor([0.6, 0.3, 0.1]), torch.tensor([0.2, 0.5, 0.3])
    p2 = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [1 / 3, 1 / 3, 1 / 3]])
    q2 = torch.tensor([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])

    def kl(a, b):
        return float((a * (a / b).log()).sum())

    # Chain rule: KL of responses = KL of the first token + expected KL of the second.
    exact = kl(p1, q1) + sum(float(p1[i]) * kl(p2[i], q2[i]) for i in range(3))
    # By hand: 0.3961 + 0.6 * 0.3734 + 0.3 * 0.6780 + 0.1 * 0.5108 = 0.8746 nats.
    assert exact == pytest.approx(0.8746, abs=1e-4)

    gen = torch.Generator().manual_seed(0)
    n = 200_000
    x1 = torch.multinomial(p1, n, replacement=True, generator=gen)
    x2 = torch.multinomial(p2[x1], 1, generator=gen).squeeze(1)
    logp = torch.stack([p1.log()[x1], p2.log()[x1, x2]], dim=1)  # per-token log-probs, [n, 2]
    logq = torch.stack([q1.log()[x1], q2.log()[x1, x2]], dim=1)

    k1 = kl_penalty(logp, logq, "k1")
    k3 = kl_penalty(logp, logq, "k3")
    assert float(k1.sum(1).mean()) == pytest.approx(exact, abs=0.01)
    assert float(k3.sum(1).mean()) == pytest.approx(exact, abs=0.01)
    assert float(k1.min()) < 0 <= float(k3.min())  # k1 is negative on some tokens, k3 never
    assert float(k3.sum(1).var()) < float(k1.sum(1).var())  # and k3 varies less here


def test_it_refuses_an_estimator_it_does_not_offer(tmp_path):
    from trainer.config import ConfigError, check_config
    from trainer.ppo.config import PPOConfig

    cfg = PPOConfig(out=str(tmp_path / "r"), prompts="p.jsonl", reward_functions=["m:f"], kl_estimator="k2")
    with pytest.raises(ConfigError, match="kl_estimator"):
        check_config(cfg)
