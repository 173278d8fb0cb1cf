"""Reward functions and prompt files for the PPO and RLOO tests (TRL's reward signature).

They are imported by name (``tests.trainer.ppo_helpers:word_reward``) the way a user's
own functions are, so the tests exercise the reward-function path of the CLI too.
"""

import json
from pathlib import Path

from tests.trainer.synthetic import questions, write_jsonl

TARGET_WORD = "the"


def word_reward(prompts, completions, **kwargs):
    """How many times the response says "the" (at most 8): easy to learn, easy to over-learn."""
    return [float(min(8, c.lower().split().count(TARGET_WORD))) for c in completions]


def write_prompts(path: Path, n: int | None = None) -> Path:
    qs = questions()[:n] if n else questions()
    return write_jsonl(path, [{"prompt": q} for q in qs])


def metrics(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


# Settings that make a PPO step take a fraction of a second on the tiny model (batch of 8,
# 16 new tokens, one minibatch, two epochs) with a learning rate at which 30-40 steps show
# learning.
FAST = dict(
    batch_size=8, minibatch_size=8, ppo_epochs=2, max_new_tokens=16, learning_rate=3e-3,
    lr_schedule="constant", save_every=0, progress="off",
)
WORD = ["tests.trainer.ppo_helpers:word_reward"]
KL_TARGET = 4.0

_RUNS: dict = {}


def ppo_run(runs_dir: Path, name: str, **fields):
    """A PPO run made once per test session and shared by the tests that read it."""
    if name not in _RUNS:
        from trainer.ppo import PPOConfig, run

        prompts = write_prompts(runs_dir / "ppo-prompts.jsonl")
        _RUNS[name] = run(PPOConfig(out=str(runs_dir / name), prompts=str(prompts), **{**FAST, **fields}))
    return _RUNS[name]


def word_run_without_kl(runs_dir: Path):
    """30 steps against the word reward with no KL penalty: the reward rises and KL runs away."""
    return ppo_run(runs_dir, "ppo-word-kl0", reward_functions=WORD, kl_coef=0.0, steps=30)


def word_run_adaptive(runs_dir: Path):
    """40 steps with the adaptive controller holding KL near KL_TARGET nats per response."""
    return ppo_run(
        runs_dir, "ppo-word-adaptive", reward_functions=WORD, kl_coef=0.3, kl_target=KL_TARGET, kl_horizon=16, steps=40,
    )


SIGTERM_AT_CALL = {"n": 0, "at": 2}


def word_reward_then_sigterm(prompts, completions, **kwargs):
    """word_reward, and on its SIGTERM_AT_CALL["at"]-th call a SIGTERM to this very process
    (as the platform's cancel button sends one), in the middle of a step."""
    import os
    import signal

    SIGTERM_AT_CALL["n"] += 1
    if SIGTERM_AT_CALL["n"] == SIGTERM_AT_CALL["at"]:
        os.kill(os.getpid(), signal.SIGTERM)
    return word_reward(prompts, completions)


def recorded_word_reward(prompts, completions, **kwargs):
    """word_reward, and each call's completions and rewards appended to the file named by
    $RECORD_REWARDS plus this process's rank (``calls.jsonl.0``, ``.1``): what each process of
    a launch scored."""
    import os

    rewards = word_reward(prompts, completions)
    if path := os.environ.get("RECORD_REWARDS"):
        with open(f"{path}.{os.environ.get('RANK', '0')}", "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"completions": list(completions), "rewards": rewards}) + "\n")
    return rewards
