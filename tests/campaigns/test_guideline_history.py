"""Each save of the guidelines is a new version with its change note; the editor previews them
with the labeling page's renderer; members see what changed since a version they read."""

import pytest

from labelhub.campaigns import selectors, services
from labelhub.campaigns.models import GuidelineVersion
from labelhub.campaigns.templatetags.markdown import render_markdown

from .conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

LEAD_ONLY_PAGE = {"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": 302}
MEMBERS_PAGE = {**LEAD_ONLY_PAGE, "labeler": 200, "reviewer": 200, "engineer": 200}


def test_it_saves_each_change_as_a_version_with_its_note(page_as, campaign, lead):
    response = page_as("lead").post("/campaigns/helpful/guidelines/edit/", {
        "guidelines": "Rank the **most helpful** answer first.\nFlag unsafe answers.", "guidelines_note": "Flag unsafe",
    })
    assert response.status_code == 302 and response["Location"] == "/campaigns/helpful/guidelines/"
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 2
    v2 = GuidelineVersion.objects.get(campaign=campaign, version=2)
    assert (v2.note, v2.created_by, v2.text) == ("Flag unsafe", lead, campaign.guidelines)
    assert GuidelineVersion.objects.get(campaign=campaign, version=1).text == "Rank the **most helpful** answer first."


def test_it_makes_no_version_when_nothing_changed(page_as, campaign):
    page_as("lead").post("/campaigns/helpful/guidelines/edit/", {"guidelines": campaign.guidelines, "guidelines_note": "x"})
    assert GuidelineVersion.objects.filter(campaign=campaign).count() == 1


def test_it_refuses_a_note_too_long_as_the_api_does(page_as, client_as, campaign):
    body = {"guidelines": "New text", "guidelines_note": "n" * 201}
    response = page_as("lead").post("/campaigns/helpful/guidelines/edit/", body)
    assert response.status_code == 400
    api = client_as("lead").patch("/api/campaigns/helpful/", body, format="json")
    assert api.status_code == 400
    assert api.json()["errors"][0] == {"field": "guidelines_note", "message": response.context["errors"]["guidelines_note"]}
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 1


def test_it_records_the_note_sent_through_the_api(client_as, campaign):
    client_as("lead").patch("/api/campaigns/helpful/", {"guidelines": "v2", "guidelines_note": "shorter"}, format="json")
    assert GuidelineVersion.objects.get(campaign=campaign, version=2).note == "shorter"


@pytest.mark.parametrize("role,status", role_cases(LEAD_ONLY_PAGE))
def test_it_lets_leads_only_edit(page_as, campaign, role, status):
    assert page_as(role).get("/campaigns/helpful/guidelines/edit/").status_code == status
    response = page_as(role).post("/campaigns/helpful/guidelines/edit/", {"guidelines": "Changed", "guidelines_note": ""})
    assert response.status_code == (302 if role == "lead" else status)
    campaign.refresh_from_db()
    assert (campaign.guidelines_version == 2) is (role == "lead")


@pytest.mark.parametrize("role,status", role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403,
                                                    "outsider": 404, "anonymous": ANON}))
def test_it_previews_with_the_labeling_pages_sanitiser_for_leads_only(client_as, campaign, role, status):
    text = "**Bold** <script>alert(1)</script> [x](javascript:alert(1)) $x^2$"
    response = client_as(role).post("/api/campaigns/helpful/guidelines/preview/", {"text": text}, format="json")
    assert response.status_code == status
    if status == 200:
        html = response.json()["html"]
        assert html == render_markdown(text)  # the renderer the labeling page's guidelines_html comes from
        assert "<strong>Bold</strong>" in html and "<script" not in html and "href=\"javascript" not in html
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 1  # a preview saves nothing


@pytest.mark.parametrize("role,status", role_cases(MEMBERS_PAGE))
def test_it_shows_the_versions_to_members(page_as, campaign, role, status):
    services.campaign_update(campaign=campaign, guidelines="New rule", guidelines_note="Simpler <b>rule</b>")
    response = page_as(role).get("/campaigns/helpful/guidelines/?since=1")
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "What changed since version 1" in body
        assert "Simpler &lt;b&gt;rule&lt;/b&gt;" in body  # the note is escaped


@pytest.mark.parametrize("role,status", role_cases({"lead": 200, "labeler": 200, "reviewer": 200, "engineer": 200,
                                                    "outsider": 404, "anonymous": ANON}))
def test_it_lists_the_versions_through_the_api(client_as, campaign, role, status):
    services.campaign_update(campaign=campaign, guidelines="v2 text", guidelines_note="second")
    response = client_as(role).get("/api/campaigns/helpful/guidelines/versions/")
    assert response.status_code == status
    if status == 200:
        rows = response.json()["results"] if isinstance(response.json(), dict) else response.json()
        assert [(r["version"], r["note"]) for r in rows] == [(2, "second"), (1, "")]


def test_it_diffs_the_lines_since_a_version(campaign):
    services.campaign_update(campaign=campaign, guidelines="Rank the **most helpful** answer first.\nFlag unsafe.")
    services.campaign_update(campaign=campaign, guidelines="Rank the **safest** answer first.\nFlag unsafe.")
    changes = selectors.guideline_changes(campaign=campaign, since=1)
    assert changes.lines == [
        ("removed", "Rank the **most helpful** answer first."),
        ("added", "Rank the **safest** answer first."),
        ("added", "Flag unsafe."),
    ]
    assert [v.version for v in changes.versions] == [3, 2]
    assert selectors.guideline_changes(campaign=campaign, since=3) is None  # the current one: nothing changed
    assert selectors.guideline_changes(campaign=campaign, since=0) is None
