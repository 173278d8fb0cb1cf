import pytest

from trainer.config import ConfigError, load_config
from trainer.reward import RewardConfig


def test_it_loads_yaml_and_lets_flags_override(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("data: prefs.jsonl\nlearning_rate: 1e-4\nepochs: 3\nlora_target_modules: [q_proj, v_proj]\n")
    cfg = load_config(RewardConfig, path, {"epochs": "2", "group_by_length": "true", "center_rewards_coefficient": "none"}, from_flags=True)
    assert (cfg.data, cfg.learning_rate, cfg.epochs, cfg.group_by_length) == ("prefs.jsonl", 1e-4, 2.0, True)
    assert cfg.lora_target_modules == ["q_proj", "v_proj"]
    assert cfg.center_rewards_coefficient is None


def test_it_loads_json_and_comma_lists_from_flags(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"data": "x.jsonl", "batch_size": 4}')
    cfg = load_config(RewardConfig, path, {"lora-target-modules": "q_proj,k_proj"}, from_flags=True)
    assert (cfg.batch_size, cfg.lora_target_modules) == (4, ["q_proj", "k_proj"])


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"learnin_rate": 1}, "unknown field 'learnin_rate' for RewardConfig (did you mean 'learning_rate'?)"),
        ({"batch_size": "eight"}, "field 'batch_size': 'eight' is not a valid int"),
        ({"batch_size": 2.5}, "field 'batch_size': 2.5 is not a valid int"),
        ({"group_by_length": "maybe"}, "field 'group_by_length'"),
        ({"epochs": None}, "field 'epochs' cannot be null"),
    ],
)
def test_it_names_the_field_that_does_not_fit(values, message):
    with pytest.raises(ConfigError) as err:
        load_config(RewardConfig, None, values)
    assert message in str(err.value)


@pytest.mark.parametrize("method", ["tiny-model", "reward", "score", "sft", "dpo", "generate", "evaluate"])
def test_every_field_has_help_text(method):
    import dataclasses

    from trainer.cli import method_parts

    _, cfg_cls = method_parts(method)
    for f in dataclasses.fields(cfg_cls):
        assert f.metadata.get("help"), f"{method}.{f.name} has no help text"
