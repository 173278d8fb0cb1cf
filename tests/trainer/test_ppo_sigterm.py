"""SIGTERM (the platform's cancel button) finishes the step, writes a checkpoint, saves the
adapter and exits with status "cancelled" (exit code 3); --resume continues from there."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trainer.ppo_helpers import WORD, metrics, write_prompts

pytestmark = pytest.mark.trainer

REPO = Path(__file__).resolve().parents[2]
FLAGS = {"batch-size": 4, "minibatch-size": 4, "ppo-epochs": 1, "max-new-tokens": 8, "save-every": 0,
         "learning-rate": 3e-3, "progress": "off"}


def test_it_saves_a_checkpoint_and_exits_with_the_cancelled_status(tiny_models, tmp_path):
    from trainer.cli import EXIT_CANCELLED
    from trainer.ppo import PPOConfig, run

    out, prompts = tmp_path / "run", write_prompts(tmp_path / "prompts.jsonl", n=12)
    command = [sys.executable, "-m", "trainer", "ppo", "--out", str(out), "--prompts", str(prompts),
               "--reward-functions", WORD[0], "--steps", "1000"]
    for flag, value in FLAGS.items():
        command += [f"--{flag}", str(value)]
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        deadline = time.monotonic() + 120
        while not _lines(out / "metrics.jsonl") >= 2:
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "no PPO step within 120 s"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()

    assert proc.returncode == EXIT_CANCELLED == 3, stderr
    summary = json.loads((out / "summary.json").read_text())
    step = summary["cancelled_at_step"]
    assert summary["status"] == "cancelled" and 2 <= step < 1000
    assert stderr.strip().splitlines()[-1] == (
        f"trainer ppo: cancelled at step {step}; checkpoint {out / 'checkpoints' / f'step-{step:06d}'}"
    )
    assert _lines(out / "metrics.jsonl") == step  # the step in flight was finished and logged
    assert (out / "checkpoints" / f"step-{step:06d}" / "state.pt").is_file()
    assert (out / "adapter" / "adapter_model.safetensors").is_file() and (out / "model.json").is_file()

    # The cancel button's counterpart: the same settings with resume continue from that step.
    saved = json.loads((out / "config.json").read_text())
    fields = {k: v for k, v in saved.items() if k in PPOConfig.__dataclass_fields__}
    again = run(PPOConfig(**{**fields, "resume": True, "steps": step + 1}))
    assert again.summary["status"] == "succeeded"
    assert [r["step"] for r in metrics(out)] == list(range(1, step + 2))


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0
