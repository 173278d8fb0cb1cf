"""/api/campaigns/ and /api/campaigns/<slug>/ for each role: members read, leads write,
non-members get 404, anonymous clients are refused."""

import pytest

from labelhub.campaigns.models import Campaign
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "role, status, slugs",
    [
        ("lead", 200, ["helpful"]),
        ("labeler", 200, ["helpful"]),
        ("reviewer", 200, ["helpful"]),
        ("engineer", 200, ["helpful"]),
        ("outsider", 200, []),
        ("anonymous", ANON, None),
    ],
)
def test_it_lists_only_the_campaigns_of_the_user(client_as, campaign, role, status, slugs):
    response = client_as(role).get("/api/campaigns/")
    assert response.status_code == status
    if slugs is not None:
        assert [c["slug"] for c in response.json()["results"]] == slugs


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 200, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON}),
)
def test_it_shows_a_campaign_to_its_members(client_as, campaign, role, status):
    response = client_as(role).get("/api/campaigns/helpful/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["name"] == "Helpful answers"
        assert response.json()["my_roles"] == [role]


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_edit_a_campaign(client_as, campaign, role, status):
    response = client_as(role).patch("/api/campaigns/helpful/", {"name": "Renamed"}, format="json")
    assert response.status_code == status
    campaign.refresh_from_db()
    assert campaign.name == ("Renamed" if status == 200 else "Helpful answers")


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_replace_a_campaign(client_as, campaign, role, status):
    body = {"name": "Replaced", "slug": "helpful", "task_kind": "rating", "completions_per_task": 2}
    response = client_as(role).put("/api/campaigns/helpful/", body, format="json")
    assert response.status_code == status
    campaign.refresh_from_db()
    assert campaign.task_kind == ("rating" if status == 200 else "rank")


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 204, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_delete_a_campaign(client_as, campaign, role, status):
    response = client_as(role).delete("/api/campaigns/helpful/")
    assert response.status_code == status
    assert Campaign.objects.filter(slug="helpful").exists() == (status != 204)


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 201, "labeler": 201, "reviewer": 201, "engineer": 201, "outsider": 201, "anonymous": ANON}),
)
def test_it_lets_anyone_signed_in_create_a_campaign(client_as, role, status):
    response = client_as(role).post("/api/campaigns/", {"name": "New", "slug": "fresh"}, format="json")
    assert response.status_code == status
    assert Campaign.objects.filter(slug="fresh").exists() == (status == 201)


def test_it_deletes_a_campaign_with_its_prompts_policies_and_completions(client_as, completion):
    response = client_as("lead").delete("/api/campaigns/helpful/")
    assert response.status_code == 204
    assert not Campaign.objects.filter(slug="helpful").exists()
