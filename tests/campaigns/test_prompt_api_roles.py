"""/api/campaigns/<slug>/prompts/: leads, reviewers and engineers read prompts (labelers see
them only in tasks); only leads delete them."""

import pytest

from labelhub.campaigns.models import Completion, Prompt, content_hash
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/prompts/"
READERS = role_cases({"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON})


@pytest.mark.parametrize("role, status", READERS)
def test_it_lists_prompts_to_content_readers(client_as, completion, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        [item] = response.json()["results"]
        assert item["text"] == "Explain recursion"
        assert item["completion_count"] == 1


@pytest.mark.parametrize("role, status", READERS)
def test_it_shows_a_prompt_to_content_readers(client_as, prompt, role, status):
    response = client_as(role).get(f"{URL}{prompt.id}/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["content_hash"] == content_hash("Explain recursion")


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 204, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_delete_a_prompt(client_as, completion, role, status):
    response = client_as(role).delete(f"{URL}{completion.prompt_id}/")
    assert response.status_code == status
    assert Prompt.objects.filter(pk=completion.prompt_id).exists() == (status != 204)
    assert Completion.objects.filter(pk=completion.pk).exists() == (status != 204)


def test_it_filters_prompts_by_split_and_search(client_as, campaign):
    for text, split in [("Explain recursion", "train"), ("Explain loops", "held_out"), ("Write a poem", "held_out")]:
        Prompt.objects.create(campaign=campaign, text=text, split=split, content_hash=content_hash(text))
    response = client_as("lead").get(URL, {"split": "held_out", "search": "explain"})
    assert [p["text"] for p in response.json()["results"]] == ["Explain loops"]


def test_it_searches_chat_prompts_by_message_content(client_as, campaign):
    messages = [{"role": "user", "content": "Tell me about otters"}]
    Prompt.objects.create(campaign=campaign, messages=messages, content_hash=content_hash(messages))
    Prompt.objects.create(campaign=campaign, text="Tell me about bees", content_hash=content_hash("bees"))
    response = client_as("lead").get(URL, {"search": "OTTERS"})
    assert [p["messages"] for p in response.json()["results"]] == [messages]
