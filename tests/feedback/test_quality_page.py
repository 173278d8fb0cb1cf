"""The Quality page: linked from the campaign page, for leads, reviewers and engineers only,
every name escaped, no inline script or style (the CSP forbids them)."""

import re

import pytest

from labelhub.campaigns.models import Policy
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

URL = "/campaigns/helpful/quality/"


@pytest.fixture
def judged(campaign, three_labelers):
    add_tasks(campaign, 3)
    Policy.objects.filter(campaign=campaign, name="poor").update(name="<script>alert('poor')</script>")
    for i, user in enumerate(three_labelers):
        judge_all(campaign, user, by_policy("good", "fair", "<script>alert('poor')</script>") if i < 2 else
                  by_policy("<script>alert('poor')</script>", "fair", "good"))
    return three_labelers


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404)])
def test_it_serves_the_page_to_leads_reviewers_and_engineers(client, users_by_role, campaign, role, expected):
    client.force_login(users_by_role[role])
    assert client.get(URL).status_code == expected


def test_it_sends_the_anonymous_to_sign_in(client, campaign):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_campaign_page_links_to_it(client, lead, judged):
    client.force_login(lead)
    assert f'href="{URL}"' in client.get("/campaigns/helpful/").content.decode()


def test_it_shows_agreement_and_alarms_with_every_name_escaped(client, lead, judged):
    client.force_login(lead)
    html = client.get(URL).content.decode()
    assert re.search(r'data-figure="agreement">0\.333<', html)
    assert "&lt;script&gt;alert(&#x27;poor&#x27;)&lt;/script&gt;" in html  # a policy pair's name, escaped
    assert "<script>alert(" not in html
    for user in judged:
        assert f'data-labeler="{user.username}"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert "style=" not in html and "<style" not in html


def test_it_shows_the_series_by_the_period_asked_and_falls_back_to_days(client, lead, judged):
    client.force_login(lead)
    assert "Week from (UTC)" in client.get(URL, {"period": "week"}).content.decode()
    assert "Day from (UTC)" in client.get(URL, {"period": "fortnight"}).content.decode()
