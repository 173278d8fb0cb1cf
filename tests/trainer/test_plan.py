"""`trainer plan` against published figures: Chinchilla's 70 B parameters on 1.4 T tokens and
its 5.76e23-FLOP budget, Llama 2 7B's parameter count, LoRA adapter size and KV cache, and the
ZeRO paper's 16 bytes per parameter for mixed-precision Adam. Pure arithmetic: no model loaded."""

import json

import pytest

from trainer.cli import main
from trainer.config import ConfigError
from trainer.plan import plan

LLAMA2_7B = {"layers": 32, "hidden": 4096, "heads": 32, "vocab": 32000, "intermediate": 11008,
             "gated_mlp": True, "tie_embeddings": False}


def test_it_gives_chinchilla_70b_its_1_4_trillion_tokens():
    result = plan({"params": 70e9})
    assert result["chinchilla"]["optimal_tokens"] == pytest.approx(1.4e12)
    assert result["training"]["tokens"] == pytest.approx(1.4e12)  # the default when tokens are not given


def test_it_sizes_chinchillas_compute_budget_as_chinchilla():
    """Chinchilla's budget (5.76e23 FLOPs) was spent on 70 B parameters and 1.4 T tokens."""
    budget = plan({"params": 1e9, "flop_budget": 5.76e23})["chinchilla"]["budget"]
    assert budget["params"] == pytest.approx(70e9, rel=0.02)
    assert budget["tokens"] == pytest.approx(1.4e12, rel=0.02)
    assert 6 * budget["params"] * budget["tokens"] == pytest.approx(5.76e23)


def test_it_counts_llama2_7b_from_its_shape():
    model = plan(LLAMA2_7B)["model"]
    assert model["params"] == pytest.approx(6.74e9, rel=0.005)  # the paper's 6.7 B; the checkpoint's 6,738,415,616


def test_it_counts_gpt2_small_from_its_config_json(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(
        {"model_type": "gpt2", "n_layer": 12, "n_embd": 768, "n_head": 12, "vocab_size": 50257,
         "activation_function": "gelu_new"}))
    model = plan({"model": str(tmp_path)})["model"]
    assert model["params"] == pytest.approx(124.4e6, rel=0.01)  # biases and 1024 positions left out
    assert (model["gated_mlp"], model["tie_embeddings"], model["params_source"]) == (False, True, "config.json")


def test_it_counts_lora_adapters_as_peft_does():
    """r = 8 on q_proj and v_proj of Llama 2 7B: PEFT reports 4,194,304 trainable parameters."""
    result = plan(LLAMA2_7B | {"method": "lora", "lora_targets": "attention", "lora_r": 8})
    assert result["model"]["trainable_params"] == 4_194_304
    all_linear = plan(LLAMA2_7B | {"method": "lora", "lora_r": 8})["model"]["trainable_params"]
    assert all_linear == 32 * 8 * (4 * (4096 + 4096) + 3 * (4096 + 11008))  # 19,988,480


@pytest.mark.parametrize(("precision", "per_param"), [("fp32", 16), ("bf16", 16)])
def test_full_adam_training_takes_16_bytes_per_parameter(precision, per_param):
    """fp32: 4 + 4 + Adam 8; mixed precision: bf16 weights 2 + gradients 2 + fp32 master, m, v 12."""
    memory = plan({"params": 7e9, "precision": precision})["training_memory"]
    assert memory["bytes_per_param"] == per_param
    assert memory["optimizer"] == 7e9 * (8 if precision == "fp32" else 12)


@pytest.mark.parametrize(("precision", "method", "weight_bytes"),
                         [("fp32", "full", 4), ("bf16", "full", 2), ("int8", "lora", 1), ("4bit", "qlora", 0.5)])
def test_weights_take_their_precisions_bytes(precision, method, weight_bytes):
    result = plan(LLAMA2_7B | {"params": 7e9, "precision": precision, "method": method})
    assert result["inference_memory"]["weights"] == 7e9 * weight_bytes
    if method != "full":  # the frozen base plus 16 bytes per adapter parameter
        trainable = result["model"]["trainable_params"]
        memory = result["training_memory"]
        states = memory["weights"] + memory["gradients"] + memory["optimizer"]
        assert states == pytest.approx(7e9 * weight_bytes + 16 * trainable)


def test_qlora_fits_a_7b_model_on_an_l4_where_full_training_does_not():
    full = plan(LLAMA2_7B | {"accelerator": "l4", "batch_size": 1})["training_memory"]
    qlora = plan(LLAMA2_7B | {"accelerator": "l4", "method": "qlora", "batch_size": 1,
                              "gradient_checkpointing": True})["training_memory"]
    assert full["fits"] == "no" and qlora["fits"] == "yes"
    many = plan(LLAMA2_7B | {"accelerator": "h100", "count": 8, "batch_size": 1,
                             "gradient_checkpointing": True})["training_memory"]
    assert many["fits"] == "sharded"  # 112 GB of states only fit split across the 8 devices


def test_training_flops_and_time():
    t = plan({"params": 70e9, "tokens": 1.4e12, "accelerator": "a100-80gb", "count": 1024,
              "utilisation": 0.5})["training"]
    assert t["flops"] == pytest.approx(6 * 70e9 * 1.4e12)
    assert t["seconds"] == pytest.approx(t["flops"] / (1024 * 312e12 * 0.5))
    params = plan(LLAMA2_7B)["model"]["params"]
    lora = plan(LLAMA2_7B | {"tokens": 1e9, "method": "lora"})["training"]
    assert lora["flops"] == pytest.approx(4 * params * 1e9)  # no weight gradients for the frozen base
    recompute = plan(LLAMA2_7B | {"tokens": 1e9, "gradient_checkpointing": True})["training"]
    assert recompute["flops"] == pytest.approx(8 * params * 1e9)  # one more forward pass


def test_the_kv_cache_of_llama2_7b_is_half_a_megabyte_per_token():
    kv = plan(LLAMA2_7B | {"batch_size": 1, "sequence_length": 4096})["inference_memory"]["kv_cache"]
    assert kv == 2 * 32 * 4096 * 2 * 4096  # K and V, 32 layers, 4096 wide, bf16: 512 KiB a token


def test_activations_follow_korthikanti():
    shape = {"layers": 2, "hidden": 64, "heads": 4, "vocab": 100}
    acts = plan(shape | {"batch_size": 2, "sequence_length": 16})["training_memory"]["activations"]
    per_layer = 16 * 2 * 64 * (34 + 5 * 4 * 16 / 64)
    assert acts == pytest.approx(2 * per_layer + 4 * 2 * 16 * 100)
    checkpointed = plan(shape | {"batch_size": 2, "sequence_length": 16, "gradient_checkpointing": True})
    assert checkpointed["training_memory"]["activations"] < acts


@pytest.mark.parametrize(("values", "field", "words"), [
    ({}, "model", "is needed"),
    ({"layers": 4, "heads": 4, "vocab": 10}, "hidden", "is required with"),
    ({"params": 7e9, "precision": "int8"}, "precision", "is int8: full fine-tuning needs fp32 or bf16"),
    ({"params": 7e9, "method": "qlora", "precision": "bf16"}, "precision", "is bf16: qlora"),
    ({"params": 7e9, "method": "lora", "precision": "4bit"}, "method", "is lora with 4-bit weights"),
    ({"params": 7e9, "method": "lora"}, "method", "lora needs the model's shape"),
    ({"layers": 2, "hidden": 10, "heads": 4, "vocab": 10}, "heads", "must divide hidden"),
    ({"layers": 2, "hidden": 16, "heads": 4, "kv_heads": 3, "vocab": 10}, "kv_heads", "must divide heads"),
    ({"params": -1}, "params", "must be > 0"),
    ({"params": 1e9, "tokens": "lots"}, "tokens", "'lots' is not a valid"),
    ({"params": 1e9, "accelerator": "tpu"}, "accelerator", "is 'tpu', not one of"),
    ({"params": 1e9, "utilisation": 1.5}, "utilisation", "must be <= 1"),
])
def test_bad_input_names_its_field(values, field, words):
    with pytest.raises(ConfigError) as err:
        plan(values)
    (got_field, message), *_ = err.value.problems
    assert got_field == field and words in str(err.value), err.value.problems


def test_a_model_folder_without_a_usable_config_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="field 'model'.*not a folder"):
        plan({"model": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="has no config.json"):
        plan({"model": str(tmp_path)})
    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    with pytest.raises(ConfigError, match="does not say layers, heads, vocab"):
        plan({"model": str(tmp_path)})


def test_the_cli_prints_the_estimate_and_writes_it_when_asked(tmp_path, capsys):
    assert main(["plan", "--params", "70e9"]) == 0
    assert "compute-optimal tokens (Chinchilla, 20/param): 1.4 T" in capsys.readouterr().out
    assert main(["plan", "--params", "70e9", "--format", "json", "--out", str(tmp_path / "p")]) == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((tmp_path / "p" / "summary.json").read_text())
    assert printed["chinchilla"]["optimal_tokens"] == saved["chinchilla"]["optimal_tokens"] == pytest.approx(1.4e12)
    assert main(["plan", "--layers", "3"]) == 2
    assert "field 'hidden' is required" in capsys.readouterr().err
