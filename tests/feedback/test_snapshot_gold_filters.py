"""Gold is not data: a snapshot and the leaderboard leave gold tasks out, and marking a task
gold shows on the next GET of cached figures. Snapshots can leave out paused labelers and
labelers below a chosen gold accuracy, and their metadata records the filters used."""

import json

import pytest

from labelhub.campaigns.services import campaign_update
from labelhub.feedback import services
from labelhub.labeling import services as labeling
from labelhub.labeling.models import GoldScore, Judgment, Task

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


def mark_gold(task):
    """Gold with the answer both labelers gave (their judgments stay, and no longer count)."""
    ranking = Judgment.objects.filter(task=task).first().ranking
    return labeling.task_gold_set(task=task, answer={"ranking": ranking})


def test_a_snapshot_leaves_gold_tasks_out(judged_campaign, lead):
    gold = mark_gold(Task.objects.filter(campaign=judged_campaign).order_by("id").first())
    snapshot = build(judged_campaign, lead)
    assert snapshot.judgment_count == 118  # 2 labelers × 59 tasks
    assert gold.pk not in {r["task_id"] for r in rows_of(snapshot)}
    assert snapshot.metadata["filters"] == {"applied": {}, "excluded_labelers": []}


def test_it_leaves_out_paused_labelers_and_records_it(judged_campaign, lead, django_user_model):
    second = django_user_model.objects.get(username="labeler2")
    labeling.labeler_pause(campaign=judged_campaign, labeler=second, by=lead, reason="testing", figures={})
    snapshot = build(judged_campaign, lead, filters={"exclude_paused": True})
    assert {tuple(r["labelers"]) for r in rows_of(snapshot)} == {("labeler",)}
    assert snapshot.metadata["filters"] == {"applied": {"exclude_paused": True}, "excluded_labelers": ["labeler2"]}


def test_it_leaves_out_labelers_below_a_gold_accuracy(judged_campaign, lead, labeler, django_user_model):
    second = django_user_model.objects.get(username="labeler2")
    campaign_update(campaign=judged_campaign, user=lead, gold_min_answers=2)
    tasks = list(Task.objects.filter(campaign=judged_campaign).order_by("id")[:2])
    for task in tasks:
        mark_gold(task)
        for user, correct in ((labeler, True), (second, False)):
            GoldScore.objects.create(campaign=judged_campaign, task=task, labeler=user, correct=correct,
                                     judgment=Judgment.objects.get(task=task, labeler=user))
    snapshot = build(judged_campaign, lead, filters={"min_gold_accuracy": 0.5})
    assert {tuple(r["labelers"]) for r in rows_of(snapshot)} == {("labeler",)}
    assert snapshot.metadata["filters"]["excluded_labelers"] == ["labeler2"]
    # under the campaign's minimum of gold answers a labeler is kept (too little to judge)
    campaign_update(campaign=judged_campaign, user=lead, gold_min_answers=3)
    kept = build(judged_campaign, lead, filters={"min_gold_accuracy": 0.5})
    assert kept.metadata["filters"]["excluded_labelers"] == []


def test_the_snapshot_page_passes_the_gold_filters(client, judged_campaign, lead):
    client.force_login(lead)
    response = client.post("/campaigns/helpful/snapshots/", {"exclude_paused": "on", "min_gold_accuracy": "0.75"})
    assert response.status_code == 302
    assert judged_campaign.snapshots.get().filters == {"exclude_paused": True, "min_gold_accuracy": 0.75}


def test_marking_a_task_gold_shows_on_the_next_leaderboard_get(api_as, engineer, judged_campaign):
    url = "/api/campaigns/helpful/leaderboard/"
    before = api_as(engineer).get(url).json()
    assert before["comparisons"] == 360
    mark_gold(Task.objects.filter(campaign=judged_campaign).order_by("id").first())
    assert api_as(engineer).get(url).json()["comparisons"] == 354  # the cached figures are not reused
