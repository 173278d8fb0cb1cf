"""Every training method under ``accelerate launch`` with 2 processes on the CPU (gloo) gives
the result of 1 process on the same data and seed, and only rank 0 writes the run folder.

One launch (``accelerate launch --multi_gpu --num_processes 2 -m tests.trainer.launch_methods``:
each rank runs ``trainer.cli.main`` for every method, as ``-m trainer <method>`` would, with
one import of torch/transformers/TRL) against the same command lines run here with 1 process.
(``accelerate launch --cpu --num_processes 2`` starts one process: accelerate starts several
CPU processes only through MPI; ``--multi_gpu`` on a machine without GPUs starts 2 through
torchrun, each on the CPU with gloo.) Threads: 1 per process.

Measured (seeds 0, 1, 2; ``python -m tests.trainer.test_several_processes`` prints them), the
largest difference between 1 and 2 processes of

* training figures in metrics.jsonl (loss, grad_norm, accuracy, margins, PPO's objective/*,
  …), per step: 7.6e-6 (dpo; reward 1.3e-7, sft 4.8e-7, pretrain 3.6e-7, ppo 3.3e-6);
  PPO's clip fractions (shares of tokens, where one token's clip decision can flip): 0.016,
  one token of 64;
* the saved adapter's weights (max |Δ|, for weights up to ~0.13): 9.4e-6 (reward);
* held-out figures of our own scorers (reward accuracy and margin, pretrain perplexity ~25,
  PPO's final reward and KL): 3.1e-6;
* held-out figures of the Trainer's evaluation loop (sft's eval loss ~4.2, dpo's eval loss
  and reward margins): 0.0059 — it averages per-process batch means and pads the last
  batch, so it is not the same arithmetic as with one process; its other figures (eval
  logps, logits, entropy, token accuracy: logps up to 4 nats apart) are not compared.

The tolerances below leave about 10× room over those. PPO samples each process's share with
its own seed, as does TRL's RLOO, so their runs agree in distribution, not sample by sample:
the PPO comparison pins sampling to the most likely token (top_k 1, one minibatch a step), which
leaves the update, the whitening over the whole batch and the gathered metrics to compare;
RLOO is checked for sharing the batch and gathering the rewards (``test_rloo_…``).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.trainer.ppo_helpers import write_prompts
from tests.trainer.synthetic import FIXTURES, learnable_pairs, write_jsonl

pytestmark = pytest.mark.trainer

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 2
TOL_TRAIN = 1e-4
TOL_WEIGHTS = 1e-4
TOL_SCORED = 1e-4
TOL_DISCRETE = 0.16
TOL_EVALUATED = 0.06
# rloo is not compared: its processes sample with their own seeds (see the docstring).
COMPARED = ("reward", "sft", "dpo", "pretrain", "ppo")
# Shares of tokens: one token's clip decision may flip with the order of sums.
DISCRETE = ("policy/clipfrac_avg", "val/clipfrac_avg")
EVALUATED_KEYS = ("eval_loss", "eval_rewards/")  # the Trainer's evaluation loop (sft, dpo)
SCORED = {
    "reward": ("eval_accuracy", "eval_margin", "eval_accuracy_before"),
    "pretrain": ("perplexity_before", "perplexity_after"),
    "ppo": ("reward_mean_final", "kl_final", "rlhf_reward_final"),
}
EVALUATED = {
    "sft": ("eval_response_loss", "eval_response_loss_before"),
    "dpo": ("eval_loss", "eval_reward_margin"),
}
CHECKPOINTS = {"ppo": "step-000004", "rloo": "checkpoint-2"}
STEPS = {"reward": 4, "sft": 3, "dpo": 3, "pretrain": 4, "ppo": 4, "rloo": 2}


def write_data(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    qa = [json.loads(line) for line in (FIXTURES / "qa.jsonl").read_text().splitlines() if line][
        :40
    ]
    return {
        "prefs": write_jsonl(folder / "prefs.jsonl", learnable_pairs(64, seed=0)),
        "demos": write_jsonl(
            folder / "demos.jsonl", [{"prompt": r["prompt"], "response": r["response"]} for r in qa]
        ),
        "corpus": write_jsonl(
            folder / "corpus.jsonl", [{"text": f"{r['prompt']} {r['response']}"} for r in qa]
        ),
        "prompts": write_prompts(folder / "prompts.jsonl", n=8),
    }


def command_lines(data: dict[str, Path], out: Path, seed: int = 0) -> dict[str, list[str]]:
    """One ``python -m trainer`` argument list per method: tiny settings, 1 thread, seed."""
    common = ["--progress", "off", "--threads", "1", "--seed", str(seed)]
    train = [
        "--batch-size",
        "4",
        "--log-every",
        "1",
        "--eval-fraction",
        "0.2",
        "--max-length",
        "64",
    ]
    sampled = [
        "--prompts",
        str(data["prompts"]),
        "--max-new-tokens",
        "8",
        "--guard-prompts",
        "0",
        "--save-every",
        "2",
        "--learning-rate",
        "3e-3",
    ]
    lines = {
        "reward": [
            "reward",
            "--data",
            str(data["prefs"]),
            *train,
            "--max-steps",
            "4",
            "--batch-size",
            "8",
        ],
        "sft": ["sft", "--data", str(data["demos"]), *train, "--max-steps", "3"],
        "dpo": [
            "dpo",
            "--data",
            str(data["prefs"]),
            *train,
            "--max-steps",
            "3",
            "--guard-prompts",
            "0",
        ],
        "pretrain": [
            "pretrain",
            "--data",
            str(data["corpus"]),
            *train,
            "--max-steps",
            "4",
            "--max-length",
            "32",
        ],
        "ppo": [
            "ppo",
            *sampled,
            "--reward-functions",
            '["tests.trainer.ppo_helpers:word_reward"]',
            "--steps",
            "4",
            "--batch-size",
            "4",
            "--minibatch-size",
            "4",
            "--ppo-epochs",
            "2",
            "--top-k",
            "1",
        ],
        "generate": ["generate", "--prompts", str(data["prompts"]), "--max-new-tokens", "8"],
        "rloo": [
            "rloo",
            *sampled,
            "--reward-functions",
            '["tests.trainer.ppo_helpers:recorded_word_reward"]',
            "--steps",
            "2",
            "--batch-size",
            "2",
            "--num-generations",
            "2",
        ],
    }
    return {m: [*argv, *common, "--out", str(out / m)] for m, argv in lines.items()}


def launch_command(processes: int, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        str(processes),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        *args,
    ]


def env(**extra: str) -> dict[str, str]:
    from trainer.tiny import models_dir

    return {
        **os.environ,
        "LABELHUB_MODELS_DIR": str(models_dir()),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def run_both(root: Path, seed: int = 0) -> tuple[Path, Path]:
    """(the 1-process runs, the 2-process runs) of every method, under root."""
    from trainer.cli import main

    data = write_data(root / "data")
    several = command_lines(data, root / "two", seed)
    argv_file = root / "argv.json"
    argv_file.write_text(json.dumps(list(several.values())))
    done = subprocess.run(
        launch_command(PROCESSES, "-m", "tests.trainer.launch_methods", str(argv_file)),
        cwd=ROOT,
        env=env(RECORD_REWARDS=str(root / "two-rewards.jsonl")),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for argv in command_lines(data, root / "one", seed).values():
        assert main(argv) == 0, argv
    return root / "one", root / "two"


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def differences(one: Path, two: Path, method: str) -> dict[str, float]:
    """The largest |1 process − 2 processes| of each kind of figure of one method."""
    from safetensors.torch import load_file

    out = {"train": 0.0, "discrete": 0.0, "weights": 0.0, "scored": 0.0, "evaluated": 0.0}
    for a, b in zip(metrics(one / method), metrics(two / method), strict=True):
        assert a["step"] == b["step"] and a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, float) and (kind := kind_of(method, key)):
                out[kind] = max(out[kind], abs(value - b[key]))
    wa, wb = (
        load_file(run / method / "adapter" / "adapter_model.safetensors") for run in (one, two)
    )
    assert wa.keys() == wb.keys()
    out["weights"] = max(float((wa[k] - wb[k]).abs().max()) for k in wa)
    sa, sb = (json.loads((run / method / "summary.json").read_text()) for run in (one, two))
    for kind, keys in (
        ("scored", SCORED.get(method, ())),
        ("evaluated", EVALUATED.get(method, ())),
    ):
        for key in keys:
            out[kind] = max(out[kind], abs(sa[key] - sb[key]))
    return out


def kind_of(method: str, key: str) -> str | None:
    """Which tolerance a metrics.jsonl figure is held to; None: not compared (timings, and
    the evaluation loop's other figures — logps, logits, entropy, token accuracy)."""
    if key.startswith(("timing/", "elapsed_s")):
        return None
    if key in DISCRETE:
        return "discrete"
    if not key.startswith("eval_"):
        return "train"
    if method == "reward":  # the held-out row the run adds with its own scorer
        return "scored"
    return "evaluated" if key.startswith(EVALUATED_KEYS) else None


@pytest.fixture(scope="module")
def runs(tiny_models, tmp_path_factory) -> tuple[Path, Path]:
    return run_both(tmp_path_factory.mktemp("several"))


@pytest.mark.parametrize("method", COMPARED)
def test_it_gives_the_result_of_one_process(runs, method):
    diff = differences(*runs, method)
    assert diff["train"] <= TOL_TRAIN, diff
    assert diff["discrete"] <= TOL_DISCRETE, diff
    assert diff["weights"] <= TOL_WEIGHTS, diff
    assert diff["scored"] <= TOL_SCORED, diff
    assert diff["evaluated"] <= TOL_EVALUATED, diff


@pytest.mark.parametrize("method", [*COMPARED, "rloo"])
def test_only_rank_0_writes_the_run_folder(runs, method):
    one, two = runs
    run = two / method
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "succeeded" and summary["processes"] == PROCESSES
    assert json.loads((one / method / "summary.json").read_text())["processes"] == 1
    assert json.loads((run / "config.json").read_text())["processes"] == PROCESSES
    lines = (run / "metrics.jsonl").read_text().splitlines()
    train_steps = [
        json.loads(line)["step"]
        for line in lines
        if not any(k.startswith("eval_") for k in json.loads(line))
    ]
    assert train_steps == list(range(1, STEPS[method] + 1)), (
        lines
    )  # one line a step: no rank wrote twice
    assert len(lines) == len(metrics(one / method))
    assert (run / "adapter" / "adapter_model.safetensors").is_file() and (
        run / "model.json"
    ).is_file()
    if method in CHECKPOINTS:
        assert (run / "checkpoints" / CHECKPOINTS[method]).is_dir()
    if method == "ppo":  # samples.jsonl: the batch's first responses, from every process, once
        assert [
            json.loads(line)["step"] for line in (run / "samples.jsonl").read_text().splitlines()
        ] == [s for s in range(1, 5) for _ in range(4)]


def test_rloo_shares_each_step_between_the_processes_and_logs_the_rewards_of_all(runs):
    _, two = runs
    calls = {
        rank: [
            json.loads(line)
            for line in (two.parent / f"two-rewards.jsonl.{rank}").read_text().splitlines()
        ]
        for rank in range(PROCESSES)
    }
    assert [len(calls[rank]) for rank in calls] == [
        STEPS["rloo"]
    ] * PROCESSES  # every process scores every step
    per_step = 2 * 2  # batch_size prompts x num_generations
    for step, row in enumerate(metrics(two / "rloo")):
        scored = [calls[rank][step] for rank in calls]
        assert [len(c["completions"]) for c in scored] == [per_step // PROCESSES] * PROCESSES
        every = [r for c in scored for r in c["rewards"]]
        assert row["reward"] == pytest.approx(sum(every) / len(every), abs=1e-6), (row, scored)


def test_a_method_that_does_not_split_its_work_runs_on_rank_0_alone(runs):
    """generate (like evaluate, score, prompt-lab): the other ranks leave at once, so the
    completions are written once and are those of one process."""
    one, two = runs
    summary = json.loads((two / "generate" / "summary.json").read_text())
    assert (
        summary["status"] == "succeeded"
        and summary["processes"] == 1
        and summary["completions"] == 8
    )
    assert (two / "generate" / "completions.jsonl").read_text() == (
        one / "generate" / "completions.jsonl"
    ).read_text()


def test_a_sigterm_stops_every_process_and_the_run_ends_cancelled(tiny_models, tmp_path):
    """As the platform cancels: SIGTERM to the launcher's process group (the ranks run in their
    own sessions; torch's launcher passes the signal on). Every rank stops after the same step,
    rank 0 writes the checkpoint and a "cancelled" summary; the launcher exits 128 + 15."""
    data = write_data(tmp_path / "data")
    argv = command_lines(data, tmp_path, seed=0)["ppo"]
    argv[argv.index("--steps") + 1] = "500"
    proc = subprocess.Popen(
        launch_command(PROCESSES, "-m", "trainer", *argv),
        cwd=ROOT,
        env=env(),
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = tmp_path / "ppo" / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (lines.is_file() and lines.read_text().count("\n") >= 1) and proc.poll() is None:
        assert time.monotonic() < deadline, "no metrics line within 120 s"
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGTERM)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, output[-3000:]
    summary = json.loads((tmp_path / "ppo" / "summary.json").read_text())
    step = summary["cancelled_at_step"]
    assert (
        summary["status"] == "cancelled" and summary["processes"] == PROCESSES and 1 <= step < 500
    ), summary
    assert [row["step"] for row in metrics(tmp_path / "ppo")] == list(range(1, step + 1))
    assert (
        summary["checkpoint"].endswith(f"step-{step:06d}")
        and Path(summary["checkpoint"], "state.pt").is_file()
    )
    assert output.count(f"cancelled at step {step};") == 1, output[
        -3000:
    ]  # rank 0 reports, for all


if (
    __name__ == "__main__"
):  # measure the differences over seeds: python -m tests.trainer.test_several_processes
    import tempfile

    from trainer.tiny import ensure_tiny_models

    ensure_tiny_models()
    worst: dict[str, dict[str, float]] = {}
    for seed in (0, 1, 2):
        one, two = run_both(Path(tempfile.mkdtemp(prefix=f"several-{seed}-")), seed)
        for method in COMPARED:
            diff = differences(one, two, method)
            print(seed, method, {k: f"{v:.2g}" for k, v in diff.items()}, flush=True)
            worst[method] = {k: max(v, worst.get(method, {}).get(k, 0.0)) for k, v in diff.items()}
    print(json.dumps(worst, indent=1))
