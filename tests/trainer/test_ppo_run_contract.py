"""`trainer ppo` writes the run folder every method writes, with TRL's log keys, a summary
with guards, and a policy adapter the platform can register as a new policy version."""

import json
import subprocess
import sys

import pytest

from tests.trainer.ppo_helpers import metrics, word_run_adaptive

pytestmark = pytest.mark.trainer

TRL_KEYS = {
    "objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores",
    "policy/approxkl_avg", "policy/clipfrac_avg", "policy/entropy_avg", "loss/policy_avg", "loss/value_avg",
    "val/clipfrac_avg", "val/ratio", "val/ratio_var", "val/num_eos_tokens", "kl_coef", "lr", "episode",
}


def test_it_writes_config_metrics_summary_and_samples(runs_dir):
    run = word_run_adaptive(runs_dir)
    config = json.loads((run.out / "config.json").read_text())
    assert config["method"] == "ppo" and config["kl_target"] == 4.0 and config["device"] == "cpu"
    resolved = config["resolved"]
    assert resolved["reward_sources"] == ["word_reward"] and resolved["base"].endswith("/lm")
    # The value model's own trainable part: an adapter the size of the policy's, and a hidden -> 1 head.
    assert resolved["params_value_adapter"] == resolved["params_policy_adapter"] > 0
    assert resolved["params_value_head"] == 128 + 1
    rows = metrics(run.out)
    assert all(TRL_KEYS <= set(r) for r in rows)
    assert all(r["objective/rlhf_reward"] == pytest.approx(r["objective/scores"] + r["objective/non_score_reward"], abs=1e-4)
               for r in rows)
    assert all(r["timing/step_s"] > 0 for r in rows)
    s = run.summary
    for key in ("reward_mean_final", "kl_final", "kl_coef_final", "response_length_mean", "distinct_1", "distinct_2", "eos_rate"):
        assert isinstance(s[key], float), key
    assert s["kl_final"] == rows[-1]["objective/kl"] and s["reward_mean_final"] == rows[-1]["objective/raw_scores"]
    assert 0 < s["distinct_1"] <= 1 and s["response_length_mean"] <= 16
    samples = [json.loads(line) for line in (run.out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 40 * 4 and {"step", "prompt", "completion", "score", "eos"} <= set(samples[0])


def test_it_saves_only_the_policy_adapter_as_a_loadable_policy_version(runs_dir):
    import torch

    from trainer.models import load_causal_lm, load_tokenizer, resolve_model

    run = word_run_adaptive(runs_dir)
    model_json = json.loads((run.out / "model.json").read_text())
    assert model_json["base"] == "tiny" and model_json["adapter"] == "adapter" and model_json["kind"] == "causal-lm"
    adapter_config = json.loads((run.out / "adapter" / "adapter_config.json").read_text())
    assert adapter_config["peft_type"] == "LORA"
    assert not (run.out / "adapter" / "value").exists()  # the value adapter stays in checkpoints only

    ref = resolve_model(str(run.out))
    policy = load_causal_lm(ref)
    ids = load_tokenizer(ref)(["<|user|>Why is the sky blue?<|endoftext|><|assistant|>"], return_tensors="pt")
    with torch.no_grad():
        trained = policy(**ids).logits
        with policy.disable_adapter():
            base = policy(**ids).logits
    assert not torch.allclose(trained, base, atol=1e-3)


def test_it_lists_its_knobs_in_help_without_importing_torch():
    code = (
        "import sys, contextlib, io\n"
        "from trainer.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert main(['ppo', '--help']) == 0 and main(['rloo', '--help']) == 0\n"
        "text = out.getvalue()\n"
        "assert all(f in text for f in ('--kl-target', '--kl-horizon', '--kl-estimator', '--missing-eos-penalty',\n"
        "                               '--score-norm', '--resume', '--num-generations'))\n"
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ([], "field 'reward_model' is required"),
        (["--reward-functions", "m:f", "--batch-size", "6", "--minibatch-size", "4"], "does not divide batch_size 6"),
        (["--reward-functions", "m:f", "--do-sample", "false"], "field 'do_sample'"),
        (["--reward-functions", "m:f", "--kl-target", "0"], "field 'kl_target' must be > 0"),
        (["--reward-functions", "no_such_module:f"], "cannot import 'no_such_module:f'"),
    ],
)
def test_it_refuses_bad_settings_with_exit_code_2(tmp_path, capsys, flags, message):
    from trainer.cli import main

    prompts = tmp_path / "p.txt"
    prompts.write_text("What is the sun?\n")
    assert main(["ppo", "--out", str(tmp_path / "r"), "--prompts", str(prompts), *flags]) == 2
    assert message in capsys.readouterr().err.strip().splitlines()[-1]
