"""Every method's config has bounds, `python -m trainer <method> --schema` prints them as a
JSON Schema, and the schema and the trainer's own checks agree (checked with the standard's
validator, `jsonschema`, on each bound's edge). Pure: no model is loaded."""

import dataclasses
import json
import subprocess
import sys
import typing

import jsonschema
import pytest

from trainer.cli import main
from trainer.config import ConfigError, check_config, config_fields, load_config, unwrap_optional
from trainer.schema import METHODS, config_class, json_schema, validate

ALL = list(METHODS)


@pytest.mark.parametrize("method", ALL)
def test_it_prints_a_valid_json_schema_whose_defaults_fit(method, capsys):
    assert main([method, "--schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json.loads(json.dumps(json_schema(method)))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema["properties"]) == {f.name for f in dataclasses.fields(config_class(method))}
    assert schema["additionalProperties"] is False
    assert ("out" in schema["required"]) == (method != "plan")  # plan writes a folder only when asked
    defaults = {name: prop["default"] for name, prop in schema["properties"].items()}
    optional_unset = {name for name, value in defaults.items() if value is None}
    jsonschema.validate({k: v for k, v in defaults.items() if k not in optional_unset}, schema | {"required": []})
    check_config(config_class(method)(), partial=True)  # the trainer agrees: the defaults fit


@pytest.mark.parametrize("method", ALL)
def test_every_field_is_bounded(method):
    """Numbers have both ends, text has a length or a list of choices, lists a length."""
    unbounded = []
    for name, (tp, f) in config_fields(config_class(method)).items():
        base, _ = unwrap_optional(tp)
        meta = f.metadata
        if typing.get_origin(base) is list:
            (item,) = typing.get_args(base)
            ok = "max_items" in meta and _bounded(item, meta)
        else:
            ok = _bounded(base, meta)
        if not ok:
            unbounded.append(name)
    assert unbounded == []


def _bounded(tp, meta) -> bool:
    if tp is bool or tp is dict:  # an object's keys and values are checked by its method's check()
        return True
    if tp in (int, float):
        return bool({"ge", "gt"} & set(meta)) and bool({"le", "lt"} & set(meta))
    return "choices" in meta or "max_length" in meta


def edge_cases(method):
    """(field, value, accepted) just inside and just outside each numeric bound."""
    for name, (tp, f) in config_fields(config_class(method)).items():
        base, _ = unwrap_optional(tp)
        if typing.get_origin(base) is list:
            continue
        meta = f.metadata
        step = 1 if base is int else 1e-9
        if base not in (int, float):
            continue
        if "ge" in meta:
            yield name, meta["ge"], True
            yield name, meta["ge"] - step, False
        if "gt" in meta:
            yield name, meta["gt"], False
        if "le" in meta:
            yield name, meta["le"], True
            yield name, meta["le"] + step, False
        if "lt" in meta:
            yield name, meta["lt"], False


@pytest.mark.parametrize("method", ["generate", "dpo", "ppo", "rloo", "reward", "sft", "evaluate"])
def test_the_schema_and_the_trainer_agree_on_every_bound(method):
    schema = json_schema(method)
    validator = jsonschema.Draft202012Validator(schema | {"required": []})
    disagreements = []
    cases = list(edge_cases(method))
    assert len(cases) > 10
    for name, value, accepted in cases:
        by_schema = validator.is_valid({name: value})
        try:
            load_config(config_class(method), overrides={name: value})
            by_trainer = True
        except ConfigError as e:
            by_trainer = False
            assert e.problems[0][0] == name, e.problems
        if (by_schema, by_trainer) != (accepted, accepted):
            disagreements.append((name, value, by_schema, by_trainer))
    assert disagreements == []


def test_it_refuses_an_absurd_sample_count_with_exit_2_naming_the_field(tmp_path, capsys):
    prompts = tmp_path / "p.txt"
    prompts.write_text("What is the sun?\n")
    out = tmp_path / "run"
    assert main(["generate", "--prompts", str(prompts), "--out", str(out), "--num-samples", "1e30"]) == 2
    assert "field 'num_samples'" in capsys.readouterr().err.strip().splitlines()[-1]
    config = tmp_path / "c.json"
    config.write_text('{"num_samples": 1e30, "max_new_tokens": 0}')
    assert main(["generate", "--config", str(config), "--prompts", str(prompts), "--out", str(out)]) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "field 'num_samples' must be <= 1024 (got 1e+30)" in line
    assert "field 'max_new_tokens' must be >= 1 (got 0)" in line
    assert not out.exists()  # refused before the run folder was made


def test_validate_names_each_field_apart_from_its_message():
    with pytest.raises(ConfigError) as err:
        validate("ppo", {"out": "r", "prompts": "p", "reward_model": "rm", "lora_r": 0, "kl_estimator": "k2",
                         "learning_rate": float("nan"), "stepz": 3})
    problems = dict(err.value.problems)
    assert problems["lora_r"] == "must be >= 1 (got 0)"
    assert problems["kl_estimator"] == "is 'k2', not one of k1, k3"
    assert problems["learning_rate"] == "must be a finite number, not nan"
    assert problems["stepz"] == "is not a field of PPOConfig (did you mean 'steps'?)"


@pytest.mark.parametrize(
    ("method", "values", "field", "message"),
    [
        ("ppo", {"batch_size": 6, "minibatch_size": 4}, "minibatch_size", "4 does not divide batch_size 6"),
        ("ppo", {"reward_model": None}, "reward_model", "is required (or give reward_functions)"),
        ("rloo", {"reward_weights": [1.0, 2.0]}, "reward_weights", "needs 1 weights (reward model first, then functions)"),
        ("dpo", {"loss_type": ["sigmoid", "ipo"], "loss_weights": [1.0]}, "loss_weights", "needs one weight per loss_type"),
        ("generate", {"template": "few-shot"}, "examples", "is required by template 'few-shot' (a prompt/response JSONL)"),
        ("generate", {"temperature": 0}, "temperature", "must be > 0 when do_sample is true (or set do_sample: false)"),
        ("dpo", {"loss_type": ["sigmoid", "nope"]}, "loss_type", "item 1 is 'nope', not one of"),
    ],
)
def test_cross_field_rules_name_their_field(method, values, field, message):
    inputs = {"out": "r", "prompts": "p", "data": "d", "reward_model": "rm"}
    known = {f.name for f in dataclasses.fields(config_class(method))}
    with pytest.raises(ConfigError) as err:
        validate(method, {k: v for k, v in inputs.items() if k in known} | values)
    (got_field, got_message), *_ = err.value.problems
    assert got_field == field and got_message.startswith(message)


def test_greedy_decoding_may_leave_the_temperature_at_zero():
    cfg = validate("generate", {"out": "r", "prompts": "p", "do_sample": False, "temperature": 0})
    assert cfg.temperature == 0.0


def test_the_schema_module_imports_no_training_library():
    code = (
        "import sys\n"
        "from trainer.schema import METHODS, json_schema, validate\n"
        "for m in METHODS: json_schema(m)\n"
        "validate('ppo', {'out': 'r', 'prompts': 'p', 'reward_model': 'rm'})\n"
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'peft', 'datasets', 'accelerate') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
