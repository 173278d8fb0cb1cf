import json

import pytest

from trainer.models import ModelError, resolve_model

pytestmark = pytest.mark.trainer


def test_it_names_a_hub_model_it_cannot_load_offline(tiny_models, tmp_path, capsys, monkeypatch):
    from trainer.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    prompts = tmp_path / "p.txt"
    prompts.write_text("Hello?\n")
    assert main(["generate", "--model", "nobody/no-such-model", "--prompts", str(prompts), "--out", str(tmp_path / "g")]) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("trainer generate: error: cannot load model 'nobody/no-such-model'")
    assert last.endswith("(HF_HUB_OFFLINE is set: only local folders and cached hub models load)")
    assert json.loads((tmp_path / "g" / "summary.json").read_text())["status"] == "failed"


def test_it_refuses_folders_that_are_not_models(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelError, match="is a folder but not a model"):
        resolve_model(str(tmp_path / "empty"))
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing"))


def test_it_resolves_a_run_folder_to_its_base_and_adapter(reward_run, tiny_models):
    ref = resolve_model(str(reward_run.out))
    assert ref.base == str(tiny_models / "rm") and ref.base_name == "tiny-rm"
    assert ref.adapter == str(reward_run.out / "adapter") and ref.kind == "reward"
    info = json.loads((reward_run.out / "model.json").read_text())
    assert info["max_length"] == 512


def test_it_takes_a_plain_local_model_folder(tiny_models):
    ref = resolve_model(str(tiny_models / "lm"))
    assert (ref.base, ref.adapter, ref.tokenizer) == (str(tiny_models / "lm"), None, str(tiny_models / "lm"))
