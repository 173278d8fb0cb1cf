import json
import subprocess
import sys

import pytest

from tests.trainer.synthetic import learnable_pairs, write_jsonl
from trainer.cli import main

pytestmark = pytest.mark.trainer


def test_it_writes_config_metrics_summary_and_artifacts(tiny_models, tmp_path, capsys):
    data = write_jsonl(tmp_path / "prefs.jsonl", learnable_pairs(40, seed=3))
    config = tmp_path / "reward.yaml"
    config.write_text(f"data: {data}\nepochs: 1\nlog_every: 1\nbatch_size: 4\n")
    code = main(["reward", "--config", str(config), "--out", str(tmp_path / "run"), "--batch-size", "8"])
    assert code == 0, capsys.readouterr().err
    run = tmp_path / "run"
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["method"] == "reward" and resolved["batch_size"] == 8 and resolved["epochs"] == 1.0
    assert resolved["device"] == "cpu" and resolved["threads"] >= 1 and resolved["bf16"] == "false"
    assert resolved["gradient_checkpointing"] is False
    assert resolved["resolved"]["train_pairs"] + resolved["resolved"]["eval_pairs"] == 40
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert len(lines) >= 4 and all(isinstance(r["step"], int) for r in lines)
    assert json.loads((run / "summary.json").read_text())["status"] == "succeeded"
    assert (run / "adapter" / "adapter_model.safetensors").is_file() and (run / "model.json").is_file()
    assert "summary.json" in capsys.readouterr().out


def test_it_fails_with_a_nonzero_exit_and_a_one_line_cause(tiny_models, tmp_path, capsys):
    data = tmp_path / "bad.jsonl"
    data.write_text('{"prompt": "Q", "chosen": " a", "rejected": " b"}\n{"prompt": "Q", "chosen": " a"}\n')
    code = main(["reward", "--data", str(data), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err[-1] == f"trainer reward: error: {data}:2: missing field 'rejected'"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == f"{data}:2: missing field 'rejected'"
    assert "Traceback" in (tmp_path / "run" / "error.txt").read_text()


def test_it_rejects_bad_flags_with_exit_code_2(tmp_path, capsys):
    assert main(["reward", "--out", str(tmp_path / "r"), "--data", "x", "--batch-size", "lots"]) == 2
    assert "field 'batch_size'" in capsys.readouterr().err
    assert main(["rewrad"]) == 2
    assert main(["reward", "--out", str(tmp_path / "r")]) == 2
    assert "field 'data' is required" in capsys.readouterr().err.splitlines()[-1]


def test_it_answers_help_without_importing_torch():
    code = (
        "import sys, contextlib, io\n"
        "from trainer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['--help']) == 0 and main(['dpo', '--help']) == 0\n"
        "assert '--beta' in out.getvalue() and '--loss-type' in out.getvalue()\n"
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'datasets') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
