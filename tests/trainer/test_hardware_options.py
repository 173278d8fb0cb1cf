"""Options that need hardware (issue 17 point 3): 4-bit LoRA and bf16 are run config options,
refused with a clear error naming the field where the machine cannot do them — before the run
folder exists — and the accelerate configurations for several GPUs ship with the trainer."""

from pathlib import Path

import pytest

from trainer import runtime
from trainer.config import ConfigError, check_config
from trainer.ppo.config import PPOConfig
from trainer.runtime import Hardware
from trainer.sft import SFTConfig

LAUNCH = Path(__file__).resolve().parents[2] / "trainer" / "launch"


def probe_of(hw):
    return lambda device: hw


def never_probed(device):
    raise AssertionError("the machine was probed for a run that asks for nothing it needs")


def test_nothing_asked_means_nothing_probed():
    cfg = SFTConfig(out="x", data="d.jsonl")
    assert runtime.hardware_problems(cfg, "cpu", probe=never_probed) == []
    cfg.bf16 = "true"  # bf16 on the CPU: PyTorch runs it
    assert runtime.hardware_problems(cfg, "cpu", probe=never_probed) == []


@pytest.mark.parametrize("device, hw, expected", [
    ("cpu", Hardware(cuda=False, bf16=False, bitsandbytes=True),
     [("load_in_4bit", "needs an NVIDIA GPU (CUDA); this run's device is cpu")]),
    ("cuda", Hardware(cuda=True, bf16=True, bitsandbytes=False),
     [("load_in_4bit", "needs the bitsandbytes package where the trainer runs (pip install bitsandbytes)")]),
    ("cuda", Hardware(cuda=True, bf16=True, bitsandbytes=True), []),
])
def test_four_bit_lora_needs_a_gpu_and_bitsandbytes(device, hw, expected):
    cfg = SFTConfig(out="x", data="d.jsonl", load_in_4bit=True)
    assert runtime.hardware_problems(cfg, device, probe=probe_of(hw)) == expected


def test_bf16_is_refused_on_a_gpu_without_it():
    cfg = SFTConfig(out="x", data="d.jsonl", bf16="true")
    old_gpu = Hardware(cuda=True, bf16=False, bitsandbytes=False)
    assert runtime.hardware_problems(cfg, "cuda", probe=probe_of(old_gpu)) == [
        ("bf16", "this GPU has no bf16 (compute capability below 8.0); use 'false' or 'auto'")]
    cfg.bf16 = "auto"  # auto falls back to float32 there
    assert runtime.hardware_problems(cfg, "cuda", probe=never_probed) == []


def test_ppo_refuses_four_bit_naming_the_field():
    cfg = PPOConfig(out="x", prompts="p.jsonl", reward_model="tiny-rm", load_in_4bit=True)
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    assert [field for field, _ in info.value.problems] == ["load_in_4bit"]


@pytest.mark.trainer  # imports torch to probe the machine
def test_a_four_bit_run_on_this_cpu_is_refused_before_its_folder_exists(tmp_path):
    from trainer.sft import run

    data = tmp_path / "demos.jsonl"
    data.write_text('{"prompt": "Hi", "response": "Hello."}\n')
    with pytest.raises(ConfigError) as info:
        run(SFTConfig(out=str(tmp_path / "run"), data=str(data), device="cpu", load_in_4bit=True, progress="off"))
    assert str(info.value) == "field 'load_in_4bit' needs an NVIDIA GPU (CUDA); this run's device is cpu"
    assert not (tmp_path / "run").exists()


@pytest.mark.trainer  # accelerate imports torch
@pytest.mark.parametrize("name, kind, extra", [
    ("zero2", "DEEPSPEED", ("zero_stage", 2)), ("zero3", "DEEPSPEED", ("zero_stage", 3)),
    ("fsdp", "FSDP", ("fsdp_version", 2)), ("multi_gpu", "MULTI_GPU", None),
])
def test_the_launch_configurations_are_what_accelerate_reads(name, kind, extra):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(LAUNCH / f"{name}.yaml"))
    assert config.distributed_type.name == kind and config.mixed_precision == "bf16" and not config.use_cpu
    if extra:
        section = config.deepspeed_config if kind == "DEEPSPEED" else config.fsdp_config
        assert section[extra[0]] == extra[1]


@pytest.mark.trainer
def test_ppo_and_rloo_take_bf16_and_ppo_runs_its_passes_in_it(tmp_path):
    """bf16 is a PPO and RLOO option too (resolved like the others: off on the CPU unless asked
    for). Asked for on the CPU, PPO's sampling and its policy, reference and value passes run in
    bf16 autocast: the same seed gives other log-probs than float32, and the run still trains."""
    from tests.trainer.ppo_helpers import FAST, WORD, metrics, write_prompts
    from trainer.ppo import run
    from trainer.rloo import RLOOConfig

    assert PPOConfig(out="x", prompts="p").bf16 == RLOOConfig(out="x", prompts="p").bf16 == "auto"
    prompts = write_prompts(tmp_path / "prompts.jsonl")
    rows = {}
    for bf16 in ("auto", "true"):
        result = run(PPOConfig(out=str(tmp_path / bf16), prompts=str(prompts), **{**FAST, "reward_functions": WORD,
                                                                                  "steps": 2, "bf16": bf16}))
        assert result.summary["status"] == "succeeded"
        rows[bf16] = metrics(result.out)
    import json

    resolved = {b: json.loads((tmp_path / b / "config.json").read_text())["bf16"] for b in rows}
    assert resolved == {"auto": "false", "true": "true"}
    figures = ("loss/policy_avg", "loss/value_avg", "policy/approxkl_avg", "val/values_mean")
    trace = {b: [[row[k] for k in figures] for row in rows[b]] for b in rows}
    assert trace["auto"] != trace["true"], "bf16 asked for, and nothing computed differently"
