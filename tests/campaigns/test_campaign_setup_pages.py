"""A lead sets a campaign up in the browser: create, edit its settings, archive it. The pages
validate with the API's serializer, show each error next to its field, and change nothing."""

import pytest

from labelhub.campaigns.models import Campaign, GuidelineVersion, Membership, Role

from .conftest import role_cases

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Safety review", "slug": "safety", "description": "", "task_kind": "rank",
    "completions_per_task": "4", "overlap": "2", "flag_vocabulary": "unsafe\noff-topic",
    "rating_axes": "helpfulness, 1, 5\nclarity", "loop_auto": "on", "loop_priority": "10",
    "guidelines": "Rank the **safest** answer first.",
}

LEAD_ONLY = {"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": 302}


@pytest.mark.parametrize("role,status", role_cases({**LEAD_ONLY, "labeler": 200, "reviewer": 200,
                                                     "engineer": 200, "outsider": 200}))
def test_it_offers_the_create_form_to_anyone_signed_in(page_as, campaign, role, status):
    response = page_as(role).get("/campaigns/new/")
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/login/")


def test_it_creates_a_campaign_led_by_its_creator(page_as, outsider):
    response = page_as("outsider").post("/campaigns/new/", FORM)
    assert response.status_code == 302 and response["Location"] == "/campaigns/safety/"
    campaign = Campaign.objects.get(slug="safety")
    assert (campaign.name, campaign.task_kind, campaign.completions_per_task, campaign.overlap) == ("Safety review", "rank", 4, 2)
    assert campaign.flag_vocabulary == ["unsafe", "off-topic"]
    assert campaign.rating_axes == [{"name": "helpfulness", "min": 1, "max": 5}, {"name": "clarity", "min": 1, "max": 5}]
    assert campaign.loop_auto is True and campaign.loop_priority == 10
    assert Membership.objects.filter(campaign=campaign, user=outsider, role=Role.LEAD).exists()
    first = GuidelineVersion.objects.get(campaign=campaign)
    assert (first.version, first.text) == (1, "Rank the **safest** answer first.")


def test_it_reads_an_unticked_loop_box_as_off(page_as, outsider):
    page_as("outsider").post("/campaigns/new/", {k: v for k, v in FORM.items() if k != "loop_auto"})
    assert Campaign.objects.get(slug="safety").loop_auto is False


@pytest.mark.parametrize("change,field", [
    ({"overlap": "0"}, "overlap"),
    ({"completions_per_task": "12"}, "completions_per_task"),
    ({"task_kind": "pairwise", "completions_per_task": "3"}, "completions_per_task"),
    ({"rating_axes": "clarity, 5, 1"}, "rating_axes"),
    ({"rating_axes": "clarity, 1"}, "rating_axes"),
    ({"rating_axes": "clarity, --1, ²"}, "rating_axes"),
    ({"flag_vocabulary": "unsafe\nunsafe"}, "flag_vocabulary"),
    ({"slug": "new"}, "slug"),
    ({"slug": "has spaces"}, "slug"),
    ({"slug": "helpful"}, "slug"),  # taken by the campaign fixture
    ({"name": ""}, "name"),
    ({"loop_priority": "101"}, "loop_priority"),
    ({"lease_seconds": "59"}, "lease_seconds"),
    ({"lease_seconds": "86401"}, "lease_seconds"),
    ({"lease_seconds": "ten"}, "lease_seconds"),
    ({"task_kind": "essay"}, "task_kind"),
])
def test_it_shows_the_apis_message_next_to_the_field_and_creates_nothing(page_as, client_as, campaign, change, field):
    before = Campaign.objects.count()
    response = page_as("lead").post("/campaigns/new/", {**FORM, **change})
    assert response.status_code == 400
    page_message = response.context["errors"][field]
    assert f'id="{field}-error"' in response.content.decode()
    assert Campaign.objects.count() == before

    api_body = {k: v for k, v in FORM.items() if k not in ("flag_vocabulary", "rating_axes", "loop_auto")}
    api_body |= {"flag_vocabulary": ["unsafe", "off-topic"], "loop_auto": True}
    api_body |= _as_api(change)
    api = client_as("lead").post("/api/campaigns/", api_body, format="json")
    assert api.status_code == 400
    api_messages = {e["field"]: e["message"] for e in api.json()["errors"]}
    assert api_messages[field] == page_message  # the same rule, the same words


def _as_api(change: dict) -> dict:
    """The page's form values as the API's JSON."""
    out = dict(change)
    if "flag_vocabulary" in out:
        out["flag_vocabulary"] = out["flag_vocabulary"].split("\n")
    if "rating_axes" in out:
        parts = [p.strip() for p in out["rating_axes"].split(",")]
        as_int = lambda v: int(v) if v.lstrip("-").isascii() and v.lstrip("-").isdigit() and v.count("-") <= 1 else v  # noqa: E731
        out["rating_axes"] = [{"name": parts[0], "min": as_int(parts[1]), "max": as_int(parts[2])}] if len(parts) == 3 else [", ".join(parts)]
    return out


@pytest.mark.parametrize("role,status", role_cases(LEAD_ONLY))
def test_it_shows_the_settings_form_to_leads_only(page_as, campaign, role, status):
    assert page_as(role).get("/campaigns/helpful/settings/").status_code == status


@pytest.mark.parametrize("role,status", role_cases({**LEAD_ONLY, "lead": 302}))
def test_it_lets_leads_only_edit_settings(page_as, campaign, role, status):
    response = page_as(role).post("/campaigns/helpful/settings/", {**FORM, "name": "Renamed", "overlap": "5", "status": "paused"})
    assert response.status_code == status
    campaign.refresh_from_db()
    changed = (campaign.name, campaign.overlap, campaign.status) == ("Renamed", 5, "paused")
    assert changed is (role == "lead")
    assert campaign.slug == "helpful"  # the settings form cannot change the address


def test_it_keeps_the_settings_when_one_is_bad(page_as, campaign):
    response = page_as("lead").post("/campaigns/helpful/settings/", {**FORM, "name": "Renamed", "overlap": "0", "status": "active"})
    assert response.status_code == 400
    assert "greater than or equal to 1" in response.context["errors"]["overlap"]
    campaign.refresh_from_db()
    assert (campaign.name, campaign.overlap) == ("Helpful answers", 2)


def test_it_fills_the_settings_form_with_the_campaigns_values(page_as, campaign):
    body = page_as("lead").get("/campaigns/helpful/settings/").content.decode()
    assert "helpfulness, 1, 5" in body and "unsafe\nwrong" in body and 'value="Helpful answers"' in body


@pytest.mark.parametrize("role,status", role_cases({**LEAD_ONLY, "lead": 302}))
def test_it_lets_leads_only_archive(page_as, campaign, role, status):
    assert page_as(role).post("/campaigns/helpful/archive/").status_code == status
    campaign.refresh_from_db()
    assert (campaign.status == Campaign.Status.ARCHIVED) is (role == "lead")


def test_it_archives_only_by_post(page_as, campaign):
    assert page_as("lead").get("/campaigns/helpful/archive/").status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_it_hands_out_no_tasks_of_an_archived_campaign(page_as, campaign, labeler):
    from labelhub.labeling import services as labeling_services
    from tests.labeling.conftest import add_prompts

    add_prompts(campaign, 2)
    assert labeling_services.tasks_create(campaign=campaign).made == 2
    page_as("lead").post("/campaigns/helpful/archive/")
    assert labeling_services.next_task(labeler=labeler) is None
    campaign.status = Campaign.Status.ACTIVE  # the same queue serves it once it is active again
    campaign.save(update_fields=["status"])
    assert labeling_services.next_task(labeler=labeler) is not None
