"""The campaign page follows its policy versions (new versions from runs, completions from
generate runs): the list is a part of the page (?part=policies) that follow.js asks for again."""

import pytest

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash

pytestmark = pytest.mark.django_db

PART = "/campaigns/helpful/?part=policies"


@pytest.fixture
def as_role(client, users_by_role):
    def login(role):
        if role is not None:
            client.force_login(users_by_role[role])
        return client

    return login


def test_the_page_marks_its_policy_list_to_follow(as_role, campaign):
    html = as_role("lead").get("/campaigns/helpful/").content.decode()
    assert '<div data-follow="?part=policies" data-follow-every="10">' in html and "app/follow.js" in html


@pytest.mark.parametrize("role, status", [("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403),
                                          ("outsider", 404), (None, 302)])
def test_the_part_lists_the_versions_to_those_who_read_the_content(as_role, campaign, role, status):
    base = Policy.objects.create(campaign=campaign, name="base", base_model="tiny")
    Policy.objects.create(campaign=campaign, name="base-ppo-r3", base_model="tiny", parent=base, is_best=True)
    response = as_role(role).get(PART)
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "<html" not in html and response["Cache-Control"] == "no-store"
        assert f'<li id="policy-{base.pk}"><strong>base</strong> <span class="meta">0 completions' in html
        assert '<strong>base-ppo-r3</strong> <span class="badge status-active">best</span>' in html
        assert "from base" in html


def test_a_new_completion_shows_in_the_part(as_role, campaign):
    policy = Policy.objects.create(campaign=campaign, name="base", base_model="tiny")
    prompt = Prompt.objects.create(campaign=campaign, text="q", content_hash=content_hash("q"))
    assert "0 completions" in as_role("reviewer").get(PART).content.decode()
    Completion.objects.create(prompt=prompt, policy=policy, text="a", content_hash=content_hash("a"))
    assert "1 completions" in as_role("reviewer").get(PART).content.decode()


def test_a_campaign_without_prompts_still_shows_its_lead_the_members_and_policies(as_role, campaign):
    html = as_role("lead").get("/campaigns/helpful/").content.decode()
    assert "<h2>Members</h2>" in html and "<h2>Policies</h2>" in html and "Labelers see this" not in html
    html = as_role("labeler").get("/campaigns/helpful/").content.decode()
    assert "<h2>Members</h2>" not in html and "Labelers see this campaign's completions in their tasks." in html
