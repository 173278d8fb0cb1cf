"""GAE and whitening on hand-computed examples, padding after EOS included."""

import pytest


def test_it_matches_a_hand_computed_gae_example():
    import torch

    from trainer.ppo.gae import gae

    # Row 0: three tokens. Row 1: two tokens, then padding with junk reward/value that must not count.
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.2, 1.0, 5.0]])
    values = torch.tensor([[0.5, 0.4, 0.3], [0.1, 0.2, 9.0]])
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    advantages, returns = gae(rewards, values, mask, gamma=0.9, lam=0.5)
    # Row 0: δ = (0 + .9·.4 − .5, 0 + .9·.3 − .4, 1 + 0 − .3) = (−.14, −.13, .7);
    #        A2 = .7, A1 = −.13 + .45·.7 = .185, A0 = −.14 + .45·.185 = −.05675.
    # Row 1: δ1 = 1 − .2 = .8, δ0 = .2 + .9·.2 − .1 = .28; A1 = .8, A0 = .28 + .45·.8 = .64.
    expected = torch.tensor([[-0.05675, 0.185, 0.7], [0.64, 0.8, 0.0]])
    assert torch.allclose(advantages, expected, atol=1e-6)
    assert torch.allclose(returns, torch.tensor([[0.44325, 0.585, 1.0], [0.74, 1.0, 0.0]]), atol=1e-6)


def test_it_gives_monte_carlo_advantages_with_gamma_and_lambda_one():
    import torch

    from trainer.ppo.gae import gae

    rewards = torch.tensor([[0.1, -0.2, 0.3, 2.0]])
    values = torch.tensor([[1.0, 0.5, -0.5, 0.25]])
    advantages, returns = gae(rewards, values, torch.ones(1, 4), gamma=1.0, lam=1.0)
    reward_to_go = torch.tensor([[2.2, 2.1, 2.3, 2.0]])
    assert torch.allclose(returns, reward_to_go, atol=1e-6)
    assert torch.allclose(advantages, reward_to_go - values, atol=1e-6)


def test_it_whitens_over_response_tokens_only():
    import torch

    from trainer.ppo.gae import masked_whiten

    values = torch.tensor([[1.0, 2.0, 3.0], [4.0, 100.0, -100.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    white = masked_whiten(values, mask)
    kept = white[mask.bool()]
    assert float(kept.mean()) == pytest.approx(0.0, abs=1e-6)
    assert float(kept.std()) == pytest.approx(1.0, abs=1e-4)  # the padded 100 / -100 played no part
    kept_mean = masked_whiten(values, mask, shift_mean=False)[mask.bool()]
    assert float(kept_mean.mean()) == pytest.approx(2.5, abs=1e-6)
