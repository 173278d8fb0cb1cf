"""Pages for gold: the gold and qualification settings on the campaign's settings page (the
API's rules), the Quality page's gold accuracy (leads and reviewers) and its reinstate button
(leads only)."""

import pytest

from labelhub.campaigns.models import Campaign
from labelhub.labeling import services
from labelhub.labeling.models import PauseEvent

pytestmark = pytest.mark.django_db

SETTINGS = {"name": "Helpful answers", "task_kind": "rank", "completions_per_task": "3", "overlap": "2",
            "loop_priority": "10", "status": "active", "gold_rate": "0.1", "gold_min_answers": "20",
            "gold_accuracy_threshold": "0.8", "qualification_size": "5", "qualification_threshold": "0.9",
            "qualification_max_attempts": "2"}


def test_the_settings_page_saves_the_gold_settings(client, lead, campaign):
    client.force_login(lead)
    assert 'name="gold_rate" value="0.05"' in client.get("/campaigns/helpful/settings/").content.decode()
    assert client.post("/campaigns/helpful/settings/", SETTINGS).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.gold_rate, campaign.gold_min_answers, campaign.gold_accuracy_threshold) == (0.1, 20, 0.8)
    assert (campaign.qualification_size, campaign.qualification_threshold, campaign.qualification_max_attempts) == (5, 0.9, 2)


@pytest.mark.parametrize("field, value", [
    ("gold_rate", "1.5"), ("gold_accuracy_threshold", "-0.1"), ("gold_min_answers", "0"),
    ("qualification_max_attempts", "11"), ("qualification_threshold", "x"),
])
def test_the_settings_page_names_a_bad_gold_setting_and_saves_nothing(client, lead, campaign, field, value):
    client.force_login(lead)
    response = client.post("/campaigns/helpful/settings/", {**SETTINGS, field: value})
    assert response.status_code == 400
    assert f'id="{field}-error"' in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).gold_rate == 0.05


def test_the_api_names_a_bad_gold_setting(api_as, lead, campaign):
    response = api_as(lead).patch("/api/campaigns/helpful/", {"gold_rate": 2}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "gold_rate"


@pytest.fixture
def paused(campaign, lead, labeler):
    return services.labeler_pause(campaign=campaign, labeler=labeler, by=lead, reason="Too many misses.", figures={})


@pytest.mark.parametrize("role, sees_gold, sees_button", [
    ("lead", True, True), ("reviewer", True, False), ("engineer", False, False)])
def test_the_quality_page_shows_gold_accuracy_to_leads_and_reviewers(client, users_by_role, paused, role, sees_gold,
                                                                      sees_button):
    client.force_login(users_by_role[role])
    page = client.get("/campaigns/helpful/quality/").content.decode()
    assert ('id="gold-table"' in page) is sees_gold
    assert ("Reinstate labeler" in page) is sees_button


@pytest.mark.parametrize("role, status", [
    ("lead", 302), ("reviewer", 403), ("engineer", 403), ("labeler", 403), ("outsider", 404)])
def test_only_leads_reinstate_from_the_page(client, users_by_role, labeler, paused, role, status):
    client.force_login(users_by_role[role])
    response = client.post(f"/campaigns/helpful/labelers/{labeler.pk}/reinstate/", {"note": "ok"})
    assert response.status_code == status
    assert PauseEvent.objects.count() == (2 if status == 302 else 1)
