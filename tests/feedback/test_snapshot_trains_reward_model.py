"""A snapshot is real training data: datasets reads its JSONL and a tiny reward model learns from it."""

from pathlib import Path

import pytest

from labelhub.feedback import services

pytestmark = [pytest.mark.django_db, pytest.mark.trainer]


def test_it_loads_with_datasets_and_trains_a_tiny_reward_model(judged_campaign, lead, settings, tmp_path):
    import datasets

    from trainer.reward import RewardConfig, run
    from trainer.tiny import ensure_tiny_models

    settings.LABELHUB_DATA_DIR = tmp_path
    snapshot = services.snapshot_build(snapshot_id=services.snapshot_create(campaign=judged_campaign, user=lead).pk)
    loaded = datasets.load_dataset("json", data_files=snapshot.jsonl_path, split="train", cache_dir=str(tmp_path / "hf"))
    assert loaded.num_rows == 360
    assert {"prompt", "chosen", "rejected"} <= set(loaded.column_names)
    assert sorted(p.name for p in Path(snapshot.path).iterdir()) == ["data.jsonl", "openrlhf", "verl"]

    ensure_tiny_models()
    result = run(RewardConfig(out=str(tmp_path / "rm"), data=snapshot.jsonl_path, epochs=2, eval_fraction=0.2,
                              group_column="group_id", progress="off"))
    assert result.summary["eval_accuracy"] >= 0.85, result.summary
