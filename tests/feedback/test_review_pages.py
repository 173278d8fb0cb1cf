"""The Review and Disagreements pages: for leads and reviewers only (engineers and labelers
403, non-members 404, the anonymous to sign in), linked from the campaign page for them,
model output escaped, and the send-back form refused to the roles the API refuses."""

import pytest

from labelhub.campaigns.models import Completion, Policy
from labelhub.feedback import services
from labelhub.labeling.models import Task
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

PAGES = ["/campaigns/helpful/review/", "/campaigns/helpful/disagreements/"]
EVIL = "<script>alert('poor')</script>"


@pytest.fixture
def split(campaign, three_labelers):
    add_tasks(campaign, 1)
    Policy.objects.filter(campaign=campaign, name="poor").update(name=EVIL)
    Completion.objects.filter(policy__name=EVIL).update(text=f"poor {EVIL}")
    for user, order in zip(three_labelers, (("good", "fair", EVIL), ("good", "fair", EVIL), (EVIL, "fair", "good")),
                           strict=True):
        judge_all(campaign, user, by_policy(*order))
    services.completion_scores_record(campaign=campaign, scorer="rm", scores=[
        (c.pk, 9.0 if c.policy.name == EVIL else 0.0) for c in Completion.objects.select_related("policy")])
    return campaign


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("reviewer", 200), ("engineer", 403), ("labeler", 403), ("outsider", 404)])
def test_only_leads_and_reviewers_open_the_pages(client, users_by_role, campaign, url, role, expected):
    client.force_login(users_by_role[role])
    assert client.get(url).status_code == expected


@pytest.mark.parametrize("url", PAGES)
def test_the_anonymous_are_sent_to_sign_in(client, campaign, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.parametrize("role, linked", [("lead", True), ("reviewer", True), ("engineer", False), ("labeler", False)])
def test_the_campaign_page_links_them_for_those_who_may_open_them(client, users_by_role, campaign, role, linked):
    client.force_login(users_by_role[role])
    html = client.get("/campaigns/helpful/").content.decode()
    assert ('href="/campaigns/helpful/review/"' in html) is linked
    assert ('href="/campaigns/helpful/disagreements/"' in html) is linked


def test_the_disagreements_page_lists_both_queues_with_model_output_escaped(client, reviewer, split):
    client.force_login(reviewer)
    html = client.get(PAGES[1]).content.decode()
    task = Task.objects.get()
    assert html.count(f'data-task="{task.pk}"') == 1 + 2  # the task; its 2 pairs the scorer and the majority split on
    assert EVIL not in html and "&lt;script&gt;alert(&#x27;poor&#x27;)&lt;/script&gt;" in html


@pytest.mark.parametrize("role, expected, overlap", [("reviewer", 302, 4), ("lead", 302, 4), ("engineer", 403, 3),
                                                     ("labeler", 403, 3)])
def test_the_send_back_form_raises_the_overlap_for_those_allowed(client, users_by_role, split, role, expected, overlap):
    client.force_login(users_by_role[role])
    response = client.post(PAGES[1], {"task": Task.objects.get().pk, "extra": "1"})
    assert response.status_code == expected
    assert Task.objects.get().overlap == overlap


def test_a_refused_send_back_says_why(client, lead, split):
    client.force_login(lead)
    response = client.post(PAGES[1], {"task": Task.objects.get().pk, "extra": "99"}, follow=True)
    assert "Not sent back: extra: must be a whole number from 1 to 10" in response.content.decode()
    assert Task.objects.get().overlap == 3
