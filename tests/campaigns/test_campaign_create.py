"""Creating and configuring a campaign: the creator becomes its lead, pairwise campaigns
show exactly two completions, and bad settings are refused naming the field."""

import pytest

from labelhub.campaigns.models import Campaign
from tests.api_errors import error_fields

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/"


def test_it_makes_the_creator_the_lead(client_as, outsider):
    response = client_as("outsider").post(URL, {"name": "Mine", "slug": "mine"}, format="json")
    assert response.status_code == 201
    assert response.json()["my_roles"] == ["lead"]
    created = Campaign.objects.get(slug="mine")
    assert created.created_by == outsider
    assert list(created.memberships.values_list("user__username", "role")) == [("outsider", "lead")]


def test_it_forces_two_completions_for_pairwise_campaigns(client_as):
    response = client_as("outsider").post(URL, {"name": "AB", "slug": "ab", "task_kind": "pairwise"}, format="json")
    assert response.status_code == 201
    assert response.json()["completions_per_task"] == 2
    assert Campaign.objects.get(slug="ab").completions_per_task == 2


def test_it_refuses_pairwise_with_another_k(client_as):
    body = {"name": "AB", "slug": "ab", "task_kind": "pairwise", "completions_per_task": 4}
    response = client_as("outsider").post(URL, body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"completions_per_task"}
    assert not Campaign.objects.filter(slug="ab").exists()


def test_it_sets_k_to_two_when_a_campaign_becomes_pairwise(client_as, campaign):
    response = client_as("lead").patch(f"{URL}helpful/", {"task_kind": "pairwise"}, format="json")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert (campaign.task_kind, campaign.completions_per_task) == ("pairwise", 2)


def test_it_refuses_another_k_on_a_pairwise_campaign(client_as, campaign):
    client_as("lead").patch(f"{URL}helpful/", {"task_kind": "pairwise"}, format="json")
    response = client_as("lead").patch(f"{URL}helpful/", {"completions_per_task": 3}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"completions_per_task"}
    campaign.refresh_from_db()
    assert campaign.completions_per_task == 2


@pytest.mark.parametrize("k", [1, 10])
def test_it_refuses_k_out_of_range(client_as, k):
    response = client_as("outsider").post(URL, {"name": "K", "slug": "k", "completions_per_task": k}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"completions_per_task"}


def test_it_refuses_a_taken_slug(client_as, campaign):
    response = client_as("outsider").post(URL, {"name": "Copy", "slug": "helpful"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"slug"}
    assert Campaign.objects.filter(slug="helpful").count() == 1


@pytest.mark.parametrize(
    "axes",
    [
        {"name": "helpfulness"},
        ["helpfulness"],
        [{"min": 1, "max": 5}],
        [{"name": "  ", "min": 1, "max": 5}],
        [{"name": "helpfulness", "min": 5, "max": 1}],
        [{"name": "helpfulness", "min": 3, "max": 3}],
        [{"name": "helpfulness", "min": "1", "max": 5}],
        [{"name": "helpfulness", "min": 1.5, "max": 5}],
        [{"name": "helpfulness", "min": True, "max": 5}],
        [{"name": "helpfulness"}, {"name": "helpfulness"}],
        [{"name": "helpfulness"}, {"name": "helpfulness "}],
    ],
    ids=[
        "object", "list-of-strings", "no-name", "blank-name", "min-over-max", "min-equals-max",
        "string-bound", "float-bound", "boolean-bound", "duplicate", "duplicate-after-strip",
    ],
)
def test_it_names_rating_axes_when_they_are_invalid(client_as, axes):
    body = {"name": "R", "slug": "r", "task_kind": "rating", "rating_axes": axes}
    response = client_as("outsider").post(URL, body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"rating_axes"}
    assert not Campaign.objects.filter(slug="r").exists()


def test_it_fills_in_default_bounds_of_rating_axes(client_as):
    body = {"name": "R", "slug": "r", "rating_axes": [{"name": " honesty "}, {"name": "style", "min": 0, "max": 2}]}
    response = client_as("outsider").post(URL, body, format="json")
    assert response.status_code == 201
    assert Campaign.objects.get(slug="r").rating_axes == [
        {"name": "honesty", "min": 1, "max": 5},
        {"name": "style", "min": 0, "max": 2},
    ]


@pytest.mark.parametrize(
    "flags",
    ["unsafe", ["unsafe", ""], ["unsafe", 3], ["unsafe", "unsafe"], ["unsafe", " unsafe"]],
    ids=["string", "blank", "number", "duplicate", "duplicate-after-strip"],
)
def test_it_names_the_flag_vocabulary_when_it_is_invalid(client_as, campaign, flags):
    response = client_as("lead").patch(f"{URL}helpful/", {"flag_vocabulary": flags}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"flag_vocabulary"}
    campaign.refresh_from_db()
    assert campaign.flag_vocabulary == ["unsafe", "wrong"]
