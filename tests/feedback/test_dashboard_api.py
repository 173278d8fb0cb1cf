"""GET /api/campaigns/<slug>/dashboard/ and the dashboard page: leads and reviewers only, and
what the figures count (progress, judgments per hour, per labeler, gold answers, agreement
and alarms as the Quality figures give them)."""

from datetime import UTC, datetime, timedelta

import pytest

from labelhub.campaigns.services import campaign_update
from labelhub.feedback import selectors
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment, Task
from tests.api_errors import error_fields
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

API = "/api/campaigns/helpful/dashboard/"
PAGE = "/campaigns/helpful/dashboard/"


@pytest.fixture
def judged(campaign, three_labelers):
    """Four tasks (the last one gold, expecting good > fair > poor, and served whenever it can
    be); two labelers rank good > fair > poor, the third the reverse."""
    add_tasks(campaign, 4)
    campaign_update(campaign=campaign, user=campaign.memberships.get(role="lead").user, gold_rate=1.0,
                    gold_min_answers=20)  # nobody is paused here
    gold = Task.objects.filter(campaign=campaign).order_by("id").last()
    expected = sorted(gold.task_completions.select_related("completion__policy"),
                      key=lambda tc: ["good", "fair", "poor"].index(tc.completion.policy.name))
    labeling.task_gold_set(task=gold, answer={"ranking": [[tc.completion_id] for tc in expected]})
    first, second, third = three_labelers
    judge_all(campaign, first, by_policy("good", "fair", "poor"))
    judge_all(campaign, second, by_policy("good", "fair", "poor"))
    judge_all(campaign, third, by_policy("poor", "fair", "good"))
    return three_labelers


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("reviewer", 200), ("engineer", 403), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_gives_the_figures_to_leads_and_reviewers_only(users_by_role, api_as, campaign, role, expected):
    response = api_as(users_by_role.get(role)).get(API)
    assert response.status_code == expected
    if expected != 200:
        assert "counts" not in response.json()


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("reviewer", 200), ("engineer", 403), ("labeler", 403), ("outsider", 404)])
def test_it_serves_the_page_to_leads_and_reviewers_only(client, users_by_role, campaign, role, expected):
    client.force_login(users_by_role[role])
    response = client.get(PAGE)
    assert response.status_code == expected
    if expected == 200:
        assert 'data-dashboard-ws="/ws/campaigns/helpful/dashboard/"' in response.content.decode()


def test_it_sends_the_anonymous_to_sign_in(client, campaign):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.parametrize("role, linked", [("lead", True), ("reviewer", True), ("engineer", False)])
def test_the_campaign_page_links_to_it_for_those_who_may_watch(client, users_by_role, campaign, role, linked):
    client.force_login(users_by_role[role])
    assert (f'href="{PAGE}"' in client.get("/campaigns/helpful/").content.decode()) is linked


def test_it_counts_progress_judgments_per_labeler_and_gold_answers(judged, api_as, lead):
    body = api_as(lead).get(API).json()
    counts = body["counts"]
    # gold tasks are not data: progress leaves them out
    assert counts["progress"] == {"tasks_total": 3, "tasks_done": 3, "tasks_started": 0, "tasks_open": 0,
                                  "in_progress": 0, "judgments": 9, "judgments_needed": 9}
    assert [(e["labeler"], e["judgments"], e["last_hour"], e["member"]) for e in counts["labelers"]] == [
        ("ann", 4, 4, True), ("bob", 4, 4, True), ("labeler", 4, 4, True)]
    gold = counts["gold"]
    assert gold["scored"] is True
    assert {name: (e["answers"], e["correct"], e["accuracy"], e["paused"]) for name, e in gold["labelers"].items()} == {
        "labeler": (1, 1, 1.0, False), "ann": (1, 1, 1.0, False), "bob": (1, 0, 0.0, False)}
    assert gold["labelers"]["bob"]["low"] == 0.0 and 0.7 < gold["labelers"]["bob"]["high"] < 0.85  # Wilson, n = 1
    hours = counts["per_hour"]
    assert len(hours) == selectors.RATE_HOURS and sum(h["judgments"] for h in hours) == 12
    assert hours[-1]["judgments"] + hours[-2]["judgments"] == 12  # (the hour may have turned meanwhile)
    assert datetime.fromisoformat(hours[-1]["start"]) <= datetime.now(UTC) < datetime.fromisoformat(hours[-1]["start"]) + timedelta(hours=1)


def test_its_quality_figures_are_the_quality_pages(judged, api_as, lead):
    body = api_as(lead).get(API + "?period=hour").json()["quality"]
    agreement = api_as(lead).get("/api/campaigns/helpful/agreement/?period=hour").json()
    alarms = api_as(lead).get("/api/campaigns/helpful/alarms/").json()
    assert body["period"] == "hour"
    assert body["agreement"]["campaign"] == agreement["campaign"]
    assert body["agreement"]["campaign"]["tasks"] == 3  # the gold task is not data
    assert body["agreement"]["periods"] == agreement["periods"]
    third = body["agreement"]["labelers"][judged[2].username]
    assert (third["vs_majority"]["agreement"], third["vs_majority"]["tau_b"]) == (0.0, -1.0)
    for entry in alarms["labelers"]:
        mine = body["alarms"]["labelers"][entry["labeler"]]
        assert mine["raised"] == entry["raised"]
        assert {k: a["status"] for k, a in mine["alarms"].items()} == {k: a["status"] for k, a in entry["alarms"].items()}


def test_it_counts_only_the_latest_hours_and_judgments_by_labelers(judged, api_as, lead, campaign):
    five_hours_ago = datetime.now(UTC).replace(minute=30, second=0, microsecond=0) - timedelta(hours=5)
    old = Judgment.objects.filter(labeler=judged[0]).order_by("id")[:2]
    Judgment.objects.filter(pk__in=[j.pk for j in old]).update(created_at=five_hours_ago)
    Judgment.objects.filter(pk=Judgment.objects.filter(labeler=judged[1]).order_by("id")[0].pk).update(
        created_at=datetime.now(UTC) - timedelta(hours=selectors.RATE_HOURS + 1))
    Judgment.objects.create(task=Task.objects.filter(campaign=campaign).first(), campaign=campaign, labeler=None,
                            source=Judgment.Source.IMPORTED, preferred=None, strength="tie", guideline_version=1,
                            idempotency_key="imported-0001")
    counts = api_as(lead).get(API).json()["counts"]
    by_start = {h["start"]: h["judgments"] for h in counts["per_hour"]}
    assert by_start[five_hours_ago.replace(minute=0).isoformat()] == 2
    assert sum(by_start.values()) == 11  # not the one older than the chart, not the imported one
    labeler = next(e for e in counts["labelers"] if e["labeler"] == judged[0].username)
    assert (labeler["judgments"], labeler["last_hour"]) == (4, 2)


def test_it_lists_labelers_who_have_not_judged_yet(campaign, api_as, lead):
    counts = api_as(lead).get(API).json()["counts"]
    assert [(e["labeler"], e["judgments"], e["last_at"]) for e in counts["labelers"]] == [("labeler", 0, None)]


def test_it_names_a_bad_period(campaign, api_as, lead):
    response = api_as(lead).get(API + "?period=month")
    assert response.status_code == 400
    assert error_fields(response) == {"period"}
