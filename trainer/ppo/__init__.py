"""``trainer ppo``: PPO with a LoRA policy, the adapter-disabled base as reference, a value
adapter + head, a per-token KL penalty (k1/k3) with a fixed or adaptive coefficient
(Ziegler et al. 2019), GAE and clipped losses — following "The N Implementation Details of
RLHF with PPO" (Huang et al. 2024). TRL removed its PPOTrainer in 1.13, so it lives here.

    config.py      PPOConfig (every knob, with help text)
    rollout.py     prompt schedule, batched sampling with the KV cache, cutting at EOS
    rewards.py     reward model + reward functions on decoded text, score normalisation
    kl.py          KL penalty estimators, fixed and adaptive controllers
    value.py       policy / reference / value on one base; log-probs and values
    gae.py         GAE and whitening
    update.py      advantages from a rollout; the clipped PPO update
    checkpoint.py  checkpoints, resume, SIGTERM
    loop.py        run(cfg): the loop, top to bottom

Heavy libraries are imported inside ``run`` (``--help`` stays fast).
"""

from trainer.ppo.config import PPOConfig


def run(cfg: PPOConfig):
    from trainer.ppo.loop import run as run_ppo

    return run_ppo(cfg)


__all__ = ["PPOConfig", "run"]
