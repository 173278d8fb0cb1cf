"""/campaigns/: the user's campaigns, grouped by the role they hold in each."""

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.models import Prompt, Role, content_hash

pytestmark = pytest.mark.django_db

URL = "/campaigns/"


@pytest.mark.parametrize(
    "role, section",
    [("lead", "Project lead"), ("labeler", "Labeler"), ("reviewer", "Reviewer"), ("engineer", "ML engineer")],
)
def test_it_lists_a_campaign_under_the_members_role(page_as, campaign, role, section):
    response = page_as(role).get(URL)
    assert response.status_code == 200
    assert [(label, [c.slug for c in items]) for label, items in response.context["sections"]] == [
        (section, ["helpful"])
    ]
    assert f"As {section.lower()}".encode() in response.content
    assert b'href="/campaigns/helpful/"' in response.content


def test_it_lists_nothing_for_an_outsider(page_as, campaign):
    response = page_as("outsider").get(URL)
    assert response.status_code == 200
    assert response.context["sections"] == []
    assert b"You are not a member of any campaign yet." in response.content
    assert b"Helpful answers" not in response.content


def test_it_sends_anonymous_visitors_to_login(page_as, campaign):
    response = page_as("anonymous").get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={URL}"


def test_it_lists_a_campaign_once_per_role_held(page_as, campaign, labeler):
    services.membership_add(campaign=campaign, user=labeler, role=Role.REVIEWER)
    response = page_as("labeler").get(URL)
    assert [label for label, _ in response.context["sections"]] == ["Labeler", "Reviewer"]


def test_it_counts_all_members_and_prompts(page_as, campaign, labeler):
    services.membership_add(campaign=campaign, user=labeler, role=Role.REVIEWER)  # one member, two roles
    for text in ["One", "Two", "Three"]:
        Prompt.objects.create(campaign=campaign, text=text, content_hash=content_hash(text))
    response = page_as("labeler").get(URL)
    [(_, [shown]), _] = response.context["sections"]
    assert (shown.member_count, shown.prompt_count) == (4, 3)
    assert b"<td>3</td>\n        <td>4</td>" in response.content
