"""The hot read paths run a fixed number of queries, however many campaigns, prompts,
completions and members there are."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelhub.campaigns import services
from labelhub.campaigns.models import Completion, Policy, Prompt, Role, content_hash

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def add_content(campaign, *, prompts, completions_each, members=(), tag="first"):
    policies = [Policy.objects.get_or_create(campaign=campaign, name=f"policy-{i}")[0] for i in range(2)]
    for i in range(prompts):
        text = f"{tag} prompt {i}"
        prompt = Prompt.objects.create(campaign=campaign, text=text, content_hash=content_hash(text))
        for j in range(completions_each):
            body = f"{text} answer {j}"
            Completion.objects.create(prompt=prompt, policy=policies[j % 2], text=body, content_hash=content_hash(body))
    for user in members:
        services.membership_add(campaign=campaign, user=user, role=Role.LABELER)


@pytest.fixture
def grow_campaigns(lead, make_user):
    """Adds campaigns the lead leads, each with prompts, completions and two more members."""
    extra = [make_user("extra-1"), make_user("extra-2")]

    def grow(count):
        for i in range(count):
            campaign = services.campaign_create(user=lead, name=f"More {i}", slug=f"more-{i}")
            add_content(campaign, prompts=3, completions_each=2, members=extra)

    return grow


def test_it_lists_campaigns_in_the_api_with_constant_queries(client_as, campaign, grow_campaigns):
    client = client_as("lead")
    few = queries(client, "/api/campaigns/")
    grow_campaigns(12)
    many = queries(client, "/api/campaigns/")
    assert client.get("/api/campaigns/").json()["count"] == 13
    assert many == few <= 4


def test_it_lists_campaigns_on_the_page_with_constant_queries(page_as, campaign, grow_campaigns):
    client = page_as("lead")
    few = queries(client, "/campaigns/")
    grow_campaigns(12)
    many = queries(client, "/campaigns/")
    assert many == few <= 5  # the 5th counts the invitations waiting for the user


def test_it_shows_the_campaign_page_with_constant_queries(page_as, campaign, make_user):
    client = page_as("reviewer")
    add_content(campaign, prompts=1, completions_each=1)
    few = queries(client, "/campaigns/helpful/")
    add_content(campaign, prompts=19, completions_each=3, members=[make_user(f"m{i}") for i in range(5)], tag="more")
    many = queries(client, "/campaigns/helpful/")
    assert many == few <= 10


@pytest.mark.parametrize("kind", ["prompts", "policies", "completions", "members"])
def test_it_lists_campaign_content_in_the_api_with_constant_queries(client_as, campaign, make_user, kind):
    client = client_as("lead")
    add_content(campaign, prompts=1, completions_each=1)
    few = queries(client, f"/api/campaigns/helpful/{kind}/")
    add_content(campaign, prompts=15, completions_each=3, members=[make_user(f"m{i}") for i in range(5)], tag="more")
    many = queries(client, f"/api/campaigns/helpful/{kind}/")
    assert many == few <= (7 if kind == "members" else 5)  # members: + judgments and leases per member, grouped
