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
