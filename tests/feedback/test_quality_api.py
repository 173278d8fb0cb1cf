"""GET /api/campaigns/<slug>/agreement/ and /alarms/: who may read them, what they count
(each labeler's latest judgment, no gold task, no imported pair), and bad parameters."""

import pytest

from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment, Task
from tests.api_errors import error_fields
from tests.feedback.conftest import add_tasks, by_policy, judge_all
from tests.feedback.textbook import textbook_alpha

pytestmark = pytest.mark.django_db

AGREEMENT = "/api/campaigns/helpful/agreement/"
ALARMS = "/api/campaigns/helpful/alarms/"
ROLES = [("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404), (None, 401)]


@pytest.fixture
def judged(campaign, three_labelers):
    """Four tasks; the first two labelers rank good > fair > poor, the third the reverse."""
    add_tasks(campaign, 4)
    first, second, third = three_labelers
    judge_all(campaign, first, by_policy("good", "fair", "poor"))
    judge_all(campaign, second, by_policy("good", "fair", "poor"))
    judge_all(campaign, third, by_policy("poor", "fair", "good"))
    return three_labelers


@pytest.mark.parametrize("role, expected", ROLES)
def test_it_shows_agreement_to_leads_reviewers_and_engineers_only(users_by_role, api_as, campaign, role, expected):
    response = api_as(users_by_role.get(role)).get(AGREEMENT)
    assert response.status_code == expected
    if expected != 200:
        assert "alpha" not in response.content.decode()


@pytest.mark.parametrize("role, expected", ROLES)
def test_it_shows_alarms_to_leads_reviewers_and_engineers_only(users_by_role, api_as, campaign, role, expected):
    response = api_as(users_by_role.get(role)).get(ALARMS)
    assert response.status_code == expected
    if expected != 200:
        assert "labelers" not in response.json()


def test_it_gives_the_figures_of_the_judgments_made(judged, api_as, lead):
    body = api_as(lead).get(AGREEMENT).json()
    campaign = body["campaign"]
    assert (body["judgments"], campaign["tasks"], campaign["labelers"]) == (12, 4, 3)
    # per task: the two who agree match on 3 of 3 pairs, each of them with the third on 0 of 3
    assert campaign["agreement"] == pytest.approx(1 / 3, abs=1e-4)
    assert campaign["tau_b"] == pytest.approx((3 - 3 - 3) / 9, abs=1e-4)
    units = [[1, 1, 3], [2, 2, 2], [3, 3, 1]] * 4  # good, fair, poor: their ranks by the three labelers
    assert campaign["alpha"] == pytest.approx(textbook_alpha(units), abs=1e-4)
    names = {tuple(p["names"]) for p in body["policy_pairs"]}
    assert names == {("good", "fair"), ("good", "poor"), ("fair", "poor")}
    assert [p["tasks"] for p in body["periods"]] == [4]
    third = next(e for e in body["labelers"] if e["labeler"] == judged[2].username)
    assert (third["vs_majority"]["agreement"], third["vs_majority"]["tau_b"]) == (0.0, -1.0)


def test_a_correction_replaces_the_judgment_it_corrects(judged, api_as, lead):
    third = judged[2]
    for judgment in Judgment.objects.filter(labeler=third):
        order = by_policy("good", "fair", "poor")(list(judgment.task.completions.select_related("policy")))
        labeling.judgment_submit(labeler=third, assignment_id=judgment.assignment_id, data={
            "idempotency_key": f"fix-{judgment.pk:06d}", "ranking": order, "corrects": judgment.pk})
    body = api_as(lead).get(AGREEMENT).json()  # a new state of the campaign: not the cached figures
    assert body["judgments"] == 12
    assert (body["campaign"]["agreement"], body["campaign"]["tau_b"], body["campaign"]["alpha"]) == (1.0, 1.0, 1.0)


def test_gold_tasks_and_imported_pairs_leave_agreement_alone_and_gold_counts_for_alarms(judged, api_as, lead, campaign):
    gold = Task.objects.filter(campaign=campaign).order_by("id").first()
    Task.objects.filter(pk=gold.pk).update(is_gold=True)
    Judgment.objects.create(task=gold, campaign=campaign, labeler=None, source=Judgment.Source.IMPORTED,
                            ranking=[[c] for c in gold.completions.values_list("id", flat=True)],
                            display_order=list(gold.completions.values_list("id", flat=True)),
                            guideline_version=1, idempotency_key="imported-1")
    body = api_as(lead).get(AGREEMENT).json()
    assert (body["judgments"], body["campaign"]["tasks"]) == (9, 3)
    alarms = api_as(lead).get(ALARMS).json()
    assert alarms["judgments"] == 12
    assert sorted(e["judgments"] for e in alarms["labelers"]) == [4, 4, 4]


def test_it_gives_each_labeler_each_alarm_with_statistic_and_p_value(judged, api_as, lead):
    body = api_as(lead).get(ALARMS, {"min_judgments": 3, "p_value": 0.05, "speed_floor": 30}).json()
    assert body["thresholds"]["min_judgments"] == 3
    assert body["thresholds"]["speed_floor_seconds"] == 30
    assert [e["labeler"] for e in body["labelers"]] == sorted(u.username for u in judged)
    for entry in body["labelers"]:
        assert set(entry["alarms"]) == {"position", "length", "speed", "straight_lining"}
        for alarm in entry["alarms"].values():
            assert {"status", "statistic", "p_value", "n"} <= set(alarm)
        speed = entry["alarms"]["speed"]
        # every task took 20 s, under the 30 s floor: 4 of 4 faster, p = 1/16
        assert (speed["statistic"], speed["faster"], speed["p_value"]) == (20.0, 4, 0.0625)
        assert (speed["p_adjusted"], speed["status"]) == (0.1875, "ok")  # three labelers tested: no alarm
        assert "length" not in entry["raised"] or entry["labeler"] == judged[2].username
    third = next(e for e in body["labelers"] if e["labeler"] == judged[2].username)
    # the answers get longer from good to poor: the third prefers the longer, the others the shorter
    assert third["alarms"]["length"]["labeler_tau_b"] == 1.0
    assert third["alarms"]["length"]["campaign_tau_b"] == -1.0


@pytest.mark.parametrize("url, params, field", [
    (AGREEMENT, {"period": "month"}, "period"),
    (ALARMS, {"p_value": "0"}, "p_value"),
    (ALARMS, {"p_value": "nan"}, "p_value"),
    (ALARMS, {"p_value": "abc"}, "p_value"),
    (ALARMS, {"min_judgments": "-1"}, "min_judgments"),
    (ALARMS, {"min_judgments": "1.5"}, "min_judgments"),
    (ALARMS, {"speed_floor": "1e9"}, "speed_floor"),
    (ALARMS, {"speed_floor": "inf"}, "speed_floor"),
])
def test_it_names_a_bad_parameter(campaign, api_as, lead, url, params, field):
    response = api_as(lead).get(url, params)
    assert response.status_code == 400
    assert error_fields(response) == {field}
