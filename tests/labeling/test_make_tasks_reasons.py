"""Make tasks says what it made and, per reason, why a prompt got no task — with the fix."""

import pytest
from django.contrib.messages import get_messages

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.labeling import services
from labelhub.labeling.selectors import campaign_progress
from tests.labeling.conftest import add_prompts, ranking_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(campaign):
    """K = 3: two prompts with 3 completions, one with 2, two with none."""
    add_prompts(campaign, 2)
    short = Prompt.objects.create(campaign=campaign, text="short", content_hash=content_hash("short"))
    for name in ("base", "tuned"):
        Completion.objects.create(prompt=short, policy=Policy.objects.get(campaign=campaign, name=name),
                                  text=f"{name} on short", content_hash=content_hash(f"{name}-short"))
    for text in ("bare 1", "bare 2"):
        Prompt.objects.create(campaign=campaign, text=text, content_hash=content_hash(text))
    return campaign


def test_it_counts_each_reason(mixed):
    first = services.tasks_create(campaign=mixed)
    assert (first.made, first.already_queued, first.too_few_completions, first.without_completions, first.needed) == (2, 0, 1, 2, 3)
    again = services.tasks_create(campaign=mixed)
    assert (again.made, again.already_queued, again.too_few_completions, again.without_completions) == (0, 2, 1, 2)
    assert again.message() == (
        "0 new tasks. 2 completion sets were already in the queue (not made twice). "
        "1 prompt has fewer than the 3 completions a task shows: import or generate more completions for them, "
        "or choose more policies. 2 prompts have no completions yet: import completions or run a generate run for a policy."
    )
    assert mixed.tasks.count() == 2


def test_it_counts_prompts_short_of_the_chosen_policies(mixed):
    base = Policy.objects.get(campaign=mixed, name="base")
    made = services.tasks_create(campaign=mixed, policy_ids=[base.pk])
    # one completion per prompt from one policy: every prompt with completions is short of K
    assert (made.made, made.too_few_completions, made.without_completions) == (0, 3, 2)


def test_it_answers_the_api_with_the_reasons(mixed, api_as, lead):
    response = api_as(lead).post("/api/campaigns/helpful/tasks/generate/", {}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("created", "made", "already_queued", "too_few_completions", "without_completions", "needed")} == {
        "created": 2, "made": 2, "already_queued": 0, "too_few_completions": 1, "without_completions": 2, "needed": 3,
    }
    assert body["message"].startswith("2 new tasks. 1 prompt has fewer than the 3 completions")


def test_the_page_warns_when_nothing_was_made_and_says_why(mixed, client, lead):
    services.tasks_create(campaign=mixed)
    client.force_login(lead)
    response = client.post("/campaigns/helpful/tasks/make/", {"split": ""})
    assert response.status_code == 302
    [message] = list(get_messages(response.wsgi_request))
    assert message.level_tag == "warning"
    assert "2 completion sets were already in the queue" in message.message
    assert "1 prompt has fewer than the 3 completions" in message.message


def test_progress_tells_done_started_open_and_leased_apart(campaign, tasks, labeler):

    first = services.next_task(labeler=labeler)
    services.judgment_submit(labeler=labeler, assignment_id=first.pk,
                             data={"idempotency_key": "key-00000001", "ranking": ranking_for(first)})
    services.next_task(labeler=labeler)  # holds a lease on a second task
    progress = campaign_progress(campaign_id=campaign.pk)
    assert {k: progress[k] for k in ("tasks_total", "tasks_done", "tasks_started", "tasks_open", "in_progress",
                                     "judgments", "judgments_needed")} == {
        "tasks_total": 5, "tasks_done": 0, "tasks_started": 1, "tasks_open": 4, "in_progress": 1,
        "judgments": 1, "judgments_needed": 10,
    }
