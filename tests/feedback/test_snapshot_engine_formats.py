"""A snapshot also holds its rows in the formats OpenRLHF's and verl's reward, DPO, SFT and PPO
trainers read (issue 17 point 5): the key names those projects document, the same pairs and
prompts as data.jsonl, chat prompts kept as messages."""

import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from labelhub.campaigns.models import Prompt
from labelhub.feedback import services
from tests.feedback.test_snapshot_carries_notes import noted  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path


def build(campaign, user, **options):
    snapshot = services.snapshot_create(campaign=campaign, user=user, **options)
    return services.snapshot_build(snapshot_id=snapshot.pk)


def jsonl(path):
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_a_preference_snapshot_is_written_for_openrlhf_and_verl(judged_campaign, lead):
    chat = Prompt.objects.filter(campaign=judged_campaign).order_by("id").first()
    Prompt.objects.filter(pk=chat.pk).update(text="", messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a <b>colour</b>."}])
    snapshot = build(judged_campaign, lead, strength_margins={"better": 2})
    folder = Path(snapshot.path)
    rows = jsonl(snapshot.jsonl_path)
    prompts_in_order = list(dict.fromkeys(r["prompt_id"] for r in rows))

    assert snapshot.metadata["exports"] == {
        "openrlhf/preference.jsonl": len(rows), "verl/rm.parquet": len(rows),
        "openrlhf/prompts.jsonl": len(prompts_in_order), "verl/ppo.parquet": len(prompts_in_order)}

    pairs = jsonl(folder / "openrlhf" / "preference.jsonl")
    assert len(pairs) == len(rows) == 360
    for pair, row in zip(pairs, rows, strict=True):
        assert set(pair) <= {"prompt", "chosen", "rejected", "margin"}
        assert pair["chosen"] == [{"role": "assistant", "content": row["chosen"]}]
        assert pair["rejected"] == [{"role": "assistant", "content": row["rejected"]}]
        assert pair.get("margin") == row.get("margin")
        if row["prompt_id"] == chat.pk:
            assert pair["prompt"] == [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": "Name a <b>colour</b>."}]
        else:
            assert pair["prompt"] == [{"role": "user", "content": row["prompt"]}]

    rm = pq.read_table(folder / "verl" / "rm.parquet").to_pylist()
    assert rm == [{"prompt": r["prompt"], "chosen": r["chosen"], "rejected": r["rejected"]} for r in rows]

    ppo_prompts = jsonl(folder / "openrlhf" / "prompts.jsonl")
    assert [p["prompt"] for p in ppo_prompts] == [next(r["prompt"] for r in rows if r["prompt_id"] == pid)
                                                  for pid in prompts_in_order]
    assert {p["datasource"] for p in ppo_prompts} == {judged_campaign.slug}
    assert all(p["context_messages"][-1]["role"] == "user" for p in ppo_prompts)

    verl = pq.read_table(folder / "verl" / "ppo.parquet").to_pylist()
    assert len(verl) == len(prompts_in_order)
    first = verl[0]
    assert set(first) == {"data_source", "prompt", "ability", "reward_model", "extra_info"}
    assert first["data_source"] == judged_campaign.slug and first["ability"] == "chat"
    assert first["reward_model"] == {"style": "model", "ground_truth": ""}
    assert [v["extra_info"]["prompt_id"] for v in verl] == prompts_in_order
    assert [v["extra_info"]["index"] for v in verl] == list(range(len(verl)))
    assert {v["extra_info"]["split"] for v in verl} == {"train"}


def test_an_sft_snapshot_is_written_with_the_labelers_answers(campaign, lead, noted):  # noqa: F811
    snapshot = build(campaign, lead, kind="sft")
    folder = Path(snapshot.path)
    [row] = jsonl(snapshot.jsonl_path)
    assert row["response"] == "Better."
    [sft] = jsonl(folder / "openrlhf" / "sft.jsonl")
    assert sft == {"messages": [{"role": "user", "content": row["prompt"]}, {"role": "assistant", "content": "Better."}],
                   "input": row["prompt"], "output": "Better."}
    [verl] = pq.read_table(folder / "verl" / "sft.parquet").to_pylist()
    assert (verl["prompt"], verl["response"]) == (row["prompt"], "Better.")
    assert set(snapshot.metadata["exports"]) == {"openrlhf/sft.jsonl", "verl/sft.parquet",
                                                 "openrlhf/prompts.jsonl", "verl/ppo.parquet"}


def test_an_empty_snapshot_gets_empty_jsonl_files_and_no_parquet(campaign, lead):
    snapshot = build(campaign, lead)
    assert snapshot.row_count == 0
    assert snapshot.metadata["exports"] == {"openrlhf/preference.jsonl": 0, "openrlhf/prompts.jsonl": 0}
    assert not list(Path(snapshot.path, "verl").iterdir())


def test_a_ratings_snapshot_has_no_engine_files(campaign, lead, noted):  # noqa: F811
    snapshot = build(campaign, lead, kind="ratings")
    assert snapshot.metadata["exports"] == {}
    assert sorted(p.name for p in Path(snapshot.path).iterdir()) == ["data.jsonl"]


def test_the_snapshots_page_says_the_zip_holds_the_engine_files(judged_campaign, lead, client):
    build(judged_campaign, lead)
    client.force_login(lead)
    page = client.get(f"/campaigns/{judged_campaign.slug}/snapshots/").content.decode()
    assert "with OpenRLHF and verl files" in page
    [listed] = re.findall(r'title="([^"]*)">with OpenRLHF', page)
    assert set(listed.split(", ")) == {"openrlhf/preference.jsonl", "verl/rm.parquet", "openrlhf/prompts.jsonl",
                                       "verl/ppo.parquet"}
