"""Deleting what other rows still need (a policy's completions, the tasks built from a
prompt) is refused with 409 and a message saying what holds it; nothing is deleted."""

import pytest

from labelhub.campaigns.models import Campaign, Completion, Policy, Prompt
from labelhub.labeling.models import Task, TaskCompletion

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(campaign, completion):
    """A task showing the completion (labeling protects the completions of its tasks)."""
    task = Task.objects.create(
        campaign=campaign, prompt=completion.prompt, kind=campaign.task_kind,
        completion_key=str(completion.id), overlap=campaign.overlap,
    )
    TaskCompletion.objects.create(task=task, completion=completion, position=0)
    return task


def test_it_refuses_to_delete_a_policy_with_completions(client_as, completion):
    response = client_as("lead").delete(f"/api/campaigns/helpful/policies/{completion.policy_id}/")
    assert response.status_code == 409
    assert response.json()["detail"] == "Policy 'base-v1' still has completions; it cannot be deleted."
    assert Policy.objects.filter(pk=completion.policy_id).exists()


def test_it_refuses_to_delete_a_prompt_that_tasks_show(client_as, task, completion):
    response = client_as("lead").delete(f"/api/campaigns/helpful/prompts/{completion.prompt_id}/")
    assert response.status_code == 409
    assert response.json()["detail"].endswith("still has task completions; it cannot be deleted.")
    assert Prompt.objects.filter(pk=completion.prompt_id).exists()
    assert Completion.objects.filter(pk=completion.pk).exists()


def test_it_refuses_to_delete_a_campaign_whose_completions_tasks_show(client_as, task, completion):
    response = client_as("lead").delete("/api/campaigns/helpful/")
    assert response.status_code == 409
    assert response.json()["detail"].endswith("still has task completions; it cannot be deleted.")
    assert Campaign.objects.filter(slug="helpful").exists()
    assert Completion.objects.filter(pk=completion.pk).exists()
