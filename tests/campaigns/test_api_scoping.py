"""Every API queryset is scoped to the campaign in the URL, and the campaign to its members:
ids from another campaign are 404 even for that URL's lead."""

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.models import Completion, Membership, Policy, Prompt, Role, content_hash

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign(other_campaign):
    """A prompt, policy, completion and membership of a campaign the lead is not in."""
    prompt = Prompt.objects.create(campaign=other_campaign, text="Theirs", content_hash=content_hash("Theirs"))
    policy = Policy.objects.create(campaign=other_campaign, name="theirs")
    completion = Completion.objects.create(prompt=prompt, policy=policy, text="t", content_hash=content_hash("t"))
    membership = other_campaign.memberships.get()
    return {"prompts": prompt, "policies": policy, "completions": completion, "members": membership}


@pytest.mark.parametrize("kind", ["prompts", "policies", "completions"])
def test_it_hides_objects_of_another_campaign(client_as, campaign, foreign, kind):
    response = client_as("lead").get(f"/api/campaigns/helpful/{kind}/{foreign[kind].id}/")
    assert response.status_code == 404


@pytest.mark.parametrize("kind", ["prompts", "policies", "completions", "members"])
def test_it_lists_only_objects_of_the_campaign_in_the_url(client_as, campaign, foreign, kind):
    response = client_as("lead").get(f"/api/campaigns/helpful/{kind}/")
    assert response.status_code == 200
    assert foreign[kind].id not in [item["id"] for item in response.json()["results"]]


@pytest.mark.parametrize("kind, model", [("prompts", Prompt), ("policies", Policy), ("members", Membership)])
def test_it_refuses_to_delete_objects_of_another_campaign(client_as, campaign, foreign, kind, model):
    response = client_as("lead").delete(f"/api/campaigns/helpful/{kind}/{foreign[kind].id}/")
    assert response.status_code == 404
    assert model.objects.filter(pk=foreign[kind].pk).exists()


def test_it_reports_every_role_a_user_holds(client_as, campaign, other_campaign, labeler):
    services.membership_add(campaign=campaign, user=labeler, role=Role.REVIEWER)
    services.membership_add(campaign=other_campaign, user=labeler, role=Role.ENGINEER)
    response = client_as("labeler").get("/api/campaigns/")
    roles = {c["slug"]: c["my_roles"] for c in response.json()["results"]}
    assert roles == {"helpful": ["labeler", "reviewer"], "elsewhere": ["engineer"]}


def test_it_lets_a_labeler_who_is_also_a_reviewer_read_prompts(client_as, campaign, prompt, labeler):
    services.membership_add(campaign=campaign, user=labeler, role=Role.REVIEWER)
    response = client_as("labeler").get("/api/campaigns/helpful/prompts/")
    assert response.status_code == 200
    assert response.json()["count"] == 1
