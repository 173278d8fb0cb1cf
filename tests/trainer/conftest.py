"""Shared trainer fixtures: the tiny models (built once, cached under var/models/ or
$LABELHUB_MODELS_DIR), a learnable synthetic preference, and runs that several tests read.

Everything is session-scoped: importing torch/transformers/TRL costs ~10 s per process and
each training run a few seconds, so every run here is made once and shared.
"""

import json
from pathlib import Path

import pytest

from tests.trainer.synthetic import FIXTURES, learnable_pairs, write_jsonl


@pytest.fixture(scope="session")
def tiny_models() -> Path:
    from trainer.tiny import ensure_tiny_models

    return ensure_tiny_models()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def preference_file(data_dir) -> Path:
    return write_jsonl(data_dir / "prefs.jsonl", learnable_pairs(300, seed=0))


@pytest.fixture(scope="session")
def prompts_file(data_dir) -> Path:
    rows = [json.loads(line) for line in (FIXTURES / "qa.jsonl").read_text().splitlines() if line][:8]
    return write_jsonl(data_dir / "prompts.jsonl", [{"prompt": r["prompt"], "reference": r["response"]} for r in rows])


@pytest.fixture(scope="session")
def reward_run(tiny_models, preference_file, runs_dir):
    from trainer.reward import RewardConfig, run

    cfg = RewardConfig(out=str(runs_dir / "reward"), data=str(preference_file), epochs=1, eval_fraction=0.2, progress="off")
    return run(cfg)


@pytest.fixture(scope="session")
def dpo_run(tiny_models, preference_file, runs_dir):
    from trainer.dpo import DPOConfig, run

    cfg = DPOConfig(out=str(runs_dir / "dpo"), data=str(preference_file), epochs=1, eval_fraction=0.2, progress="off")
    return run(cfg)
