"""/api/campaigns/<slug>/completions/: leads, reviewers and engineers read completions;
leads and engineers record new ones."""

import pytest

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from tests.api_errors import error_fields
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/completions/"
READERS = role_cases({"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON})


@pytest.mark.parametrize("role, status", READERS)
def test_it_lists_completions_to_content_readers(client_as, completion, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        [item] = response.json()["results"]
        assert (item["text"], item["policy_name"]) == (completion.text, "base-v1")


@pytest.mark.parametrize("role, status", READERS)
def test_it_shows_a_completion_to_content_readers(client_as, completion, role, status):
    response = client_as(role).get(f"{URL}{completion.id}/")
    assert response.status_code == status


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 201, "labeler": 403, "reviewer": 403, "engineer": 201, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_leads_and_engineers_record_a_completion(client_as, prompt, policy, role, status):
    body = {"prompt": prompt.id, "policy": policy.id, "text": "Recursion: see recursion.", "seed": 7}
    response = client_as(role).post(URL, body, format="json")
    assert response.status_code == status
    recorded = Completion.objects.filter(prompt=prompt, text="Recursion: see recursion.")
    assert recorded.exists() == (status == 201)
    if status == 201:
        assert recorded.get().content_hash == content_hash("Recursion: see recursion.")


def test_it_filters_completions_by_prompt_and_policy(client_as, completion, campaign):
    other = Prompt.objects.create(campaign=campaign, text="Other", content_hash=content_hash("Other"))
    Completion.objects.create(prompt=other, policy=completion.policy, text="b", content_hash=content_hash("b"))
    response = client_as("lead").get(URL, {"prompt": completion.prompt_id, "policy": completion.policy_id})
    assert [c["id"] for c in response.json()["results"]] == [completion.id]


def test_it_names_the_field_when_the_prompt_is_from_another_campaign(client_as, policy, other_campaign):
    foreign = Prompt.objects.create(campaign=other_campaign, text="Theirs", content_hash=content_hash("Theirs"))
    body = {"prompt": foreign.id, "policy": policy.id, "text": "x"}
    response = client_as("engineer").post(URL, body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"prompt"}
    assert not Completion.objects.exists()


def test_it_names_the_field_when_the_policy_is_from_another_campaign(client_as, prompt, other_campaign):
    foreign = Policy.objects.create(campaign=other_campaign, name="theirs")
    body = {"prompt": prompt.id, "policy": foreign.id, "text": "x"}
    response = client_as("engineer").post(URL, body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"policy"}
    assert not Completion.objects.exists()


def test_it_refuses_a_completion_already_recorded(client_as, completion):
    body = {"prompt": completion.prompt_id, "policy": completion.policy_id, "text": completion.text}
    response = client_as("engineer").post(URL, body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"text"}
    assert Completion.objects.count() == 1
