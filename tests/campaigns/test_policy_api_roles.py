"""/api/campaigns/<slug>/policies/: leads, reviewers and engineers read policies; leads and
engineers create, change and delete them."""

import pytest

from labelhub.campaigns.models import Policy
from tests.api_errors import error_fields
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/policies/"
READERS = role_cases({"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON})


def writers(ok):
    return role_cases({"lead": ok, "labeler": 403, "reviewer": 403, "engineer": ok, "outsider": 404, "anonymous": ANON})


@pytest.mark.parametrize("role, status", READERS)
def test_it_lists_policies_to_content_readers(client_as, completion, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        assert [(p["name"], p["completion_count"]) for p in response.json()["results"]] == [("base-v1", 1)]


@pytest.mark.parametrize("role, status", READERS)
def test_it_shows_a_policy_to_content_readers(client_as, policy, role, status):
    response = client_as(role).get(f"{URL}{policy.id}/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["base_model"] == "tiny-gpt"


@pytest.mark.parametrize("role, status", writers(201))
def test_it_lets_leads_and_engineers_create_a_policy(client_as, campaign, role, status):
    body = {"name": "sft-v2", "base_model": "tiny-gpt", "generation_settings": {"temperature": 0.7}}
    response = client_as(role).post(URL, body, format="json")
    assert response.status_code == status
    assert campaign.policies.filter(name="sft-v2").exists() == (status == 201)


@pytest.mark.parametrize("role, status", writers(200))
def test_it_lets_leads_and_engineers_change_a_policy(client_as, policy, role, status):
    response = client_as(role).patch(f"{URL}{policy.id}/", {"base_model": "org/tuned"}, format="json")
    assert response.status_code == status
    policy.refresh_from_db()
    assert policy.base_model == ("org/tuned" if status == 200 else "tiny-gpt")


@pytest.mark.parametrize("role, status", writers(204))
def test_it_lets_leads_and_engineers_delete_a_policy(client_as, policy, role, status):
    response = client_as(role).delete(f"{URL}{policy.id}/")
    assert response.status_code == status
    assert Policy.objects.filter(pk=policy.pk).exists() == (status != 204)


def test_it_names_the_field_when_a_policy_name_is_taken(client_as, policy):
    response = client_as("engineer").post(URL, {"name": "base-v1"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"name"}
    assert Policy.objects.filter(name="base-v1").count() == 1


def test_it_refuses_a_parent_from_another_campaign(client_as, campaign, other_campaign):
    foreign = Policy.objects.create(campaign=other_campaign, name="theirs")
    response = client_as("engineer").post(URL, {"name": "child", "parent": foreign.id}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"parent"}


def test_it_names_the_field_when_generation_settings_are_not_an_object(client_as, campaign):
    response = client_as("engineer").post(URL, {"name": "x", "generation_settings": [1]}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"generation_settings"}


def test_it_lets_a_policy_keep_its_own_name(client_as, policy):
    response = client_as("engineer").put(f"{URL}{policy.id}/", {"name": "base-v1", "base_model": "other"}, format="json")
    assert response.status_code == 200
    policy.refresh_from_db()
    assert policy.base_model == "other"
