import json

import pytest

from labelhub.campaigns.models import Prompt
from labelhub.feedback import services
from labelhub.feedback.models import Snapshot
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path


def build(campaign, user, **options):
    snapshot = services.snapshot_create(campaign=campaign, user=user, **options)
    return services.snapshot_build(snapshot_id=snapshot.pk)


def rows_of(snapshot):
    with open(snapshot.jsonl_path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def test_it_exports_every_pair_in_trl_format_with_provenance(judged_campaign, lead):
    snapshot = build(judged_campaign, lead)
    rows = rows_of(snapshot)
    assert snapshot.state == Snapshot.State.READY
    assert (snapshot.version, snapshot.judgment_count, snapshot.row_count) == (1, 120, 360)  # 2 labelers × 3 pairs × 60
    row = rows[0]
    assert {"prompt", "chosen", "rejected", "group_id", "task_id", "labelers", "chosen_policy", "guideline_versions"} <= set(row)
    assert all(r["chosen_policy"] != "bad" and r["rejected_policy"] != "good" for r in rows)
    assert len(snapshot.content_hash) == 64


def test_it_aggregates_by_majority_and_numbers_versions(judged_campaign, lead):
    build(judged_campaign, lead)
    snapshot = build(judged_campaign, lead, aggregation="majority")
    rows = rows_of(snapshot)
    assert snapshot.version == 2
    assert len(rows) == 180
    assert all(r["votes"] == 2 and r["labelers"] == ["labeler", "labeler2"] for r in rows)


def test_it_filters_by_labeler(judged_campaign, lead):
    snapshot = build(judged_campaign, lead, filters={"labelers": ["labeler2"]})
    assert {tuple(r["labelers"]) for r in rows_of(snapshot)} == {("labeler2",)}


def test_it_filters_by_prompt_split(judged_campaign, lead):
    held_out = list(Prompt.objects.filter(campaign=judged_campaign).order_by("id").values_list("id", flat=True)[:10])
    Prompt.objects.filter(id__in=held_out).update(split=Prompt.Split.HELD_OUT)
    train = build(judged_campaign, lead, filters={"split": "train"})
    only_held_out = build(judged_campaign, lead, filters={"split": "held_out"})
    texts = dict(Prompt.objects.filter(id__in=held_out).values_list("text", "id"))
    assert train.judgment_count == 100 and not any(r["prompt"] in texts for r in rows_of(train))
    assert only_held_out.judgment_count == 20 and all(r["prompt"] in texts for r in rows_of(only_held_out))


def test_it_uses_the_latest_correction_only(judged_campaign, lead, labeler):
    first = Judgment.objects.filter(labeler=labeler).order_by("id").first()
    reversed_ranking = list(reversed(first.ranking))
    labeling.judgment_submit(labeler=labeler, assignment_id=first.assignment_id,
                             data={"idempotency_key": "correction-1", "ranking": reversed_ranking, "corrects": first.pk})
    snapshot = build(judged_campaign, lead, filters={"labelers": ["labeler"]})
    task_rows = [r for r in rows_of(snapshot) if r["task_id"] == first.task_id]
    assert len(task_rows) == 3
    assert all(r["chosen_policy"] != "good" for r in task_rows)


def test_it_refuses_bad_options_naming_the_field(judged_campaign, lead):
    with pytest.raises(services.SnapshotInvalid) as info:
        services.snapshot_create(campaign=judged_campaign, user=lead, aggregation="vibes",
                                 filters={"since": "yesterday"})
    assert "aggregation" in info.value.errors
    with pytest.raises(services.SnapshotInvalid) as info:
        services.snapshot_create(campaign=judged_campaign, user=lead, filters={"since": "yesterday", "colour": 1, "split": "dev"})
    assert set(info.value.errors) == {"filters.since", "filters.colour", "filters.split"}
    assert Snapshot.objects.count() == 0


def test_it_streams_in_task_batches(judged_campaign, lead, monkeypatch):
    monkeypatch.setattr(services, "TASK_BATCH", 7)
    snapshot = build(judged_campaign, lead)
    assert snapshot.row_count == 360
    assert len({r["task_id"] for r in rows_of(snapshot)}) == 60


def test_it_exports_written_answers_as_sft_data(campaign, labeler, lead):
    from tests.labeling.conftest import add_prompts, ranking_for

    add_prompts(campaign, 2)
    labeling.tasks_create(campaign=campaign)
    a = labeling.next_task(labeler=labeler)
    labeling.judgment_submit(labeler=labeler, assignment_id=a.pk, data={
        "idempotency_key": "with-answer-1", "ranking": ranking_for(a), "better_answer": "A much better answer."})
    snapshot = build(campaign, lead, kind="sft")
    judgment = Judgment.objects.get()
    assert rows_of(snapshot) == [{
        "prompt": a.task.prompt.text, "response": "A much better answer.", "group_id": f"prompt-{a.task.prompt.content_hash[:16]}",
        "task_id": a.task_id, "prompt_id": a.task.prompt_id, "judgment_id": judgment.pk, "labeler": "labeler",
        "guideline_version": 1, "ratings": [], "flags": [], "rationale": ""}]


def test_it_writes_chat_prompts_as_dialogues():
    prompt = Prompt(messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi?"}])
    assert services.prompt_as_text(prompt) == "\n\nSystem: Be brief.\n\nHuman: Hi?\n\nAssistant:"
