"""benchmarks/gpu_check.sh, the GPU check of issue 17, kept from rotting on a machine without a GPU:
the same script and code path on the CPU at a toy size (seconds), and its refusal without CUDA.
Its figures on an H200 are in docs/benchmarks.md ("GPU check")."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "gpu_check.sh"

pytestmark = pytest.mark.trainer


def run_script(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHON": sys.executable, **env},
    )


def test_the_whole_check_runs_on_the_cpu_at_a_toy_size(tiny_models, tmp_path):
    out = tmp_path / "figures.json"
    done = run_script(
        "--device", "cpu", "--size", "small", "--threads", "1", "--pairs", "32", "--batch-size", "8",
        "--seq-len", "32", "--ppo-batch-size", "8", "--ppo-minibatch-size", "4", "--max-new-tokens", "8",
        "--ppo-steps", "2", "--json", str(out),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the trainer's libraries are installed" in done.stdout  # nothing to install in this venv
    figures = json.loads(out.read_text())
    for part in ("reward_lora", "reward_lora_plain_loop", "reward_full"):
        r = figures[part]
        assert r["pairs_per_s"] > 0 and r["steps"] == 4, r  # 32 pairs in batches of 8
        assert r["tokens_per_s"] == pytest.approx(r["pairs_per_s"] * 2 * 32)
    ppo = figures["ppo"]
    assert ppo["steps_timed"] == 1 and ppo["response_tokens"] == 8  # random weights never stop early
    phases = ppo["generate"] + ppo["score"] + ppo["forward"] + ppo["update"]
    assert 0 < phases <= ppo["step"] * 1.001
    # the table for docs/benchmarks.md, with the published figure it is compared with
    assert "| reward model, LoRA r=8, bf16 (`trainer reward`) |" in done.stdout
    assert "| DeepSpeed-Chat, OPT-350m reward model (published, per GPU) | 13.6 |" in done.stdout
    assert "| generate |" in done.stdout and "| update |" in done.stdout


def test_without_a_gpu_it_says_so_and_how_to_try_it(tiny_models):
    done = run_script(CUDA_VISIBLE_DEVICES="")
    assert done.returncode == 1
    assert "sees no CUDA GPU" in done.stderr and "--device cpu --size small" in done.stderr
