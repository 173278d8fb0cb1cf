"""A version whose run broke a guard is not promoted on its standing alone: the gate refuses it
(409, with the reasons) unless the request overrides with a note; the override is recorded —
who, when, why — and shown on the leaderboard. The page's Promote asks for the note."""

import pytest

from labelhub.campaigns.models import Policy
from labelhub.feedback.models import Promotion
from labelhub.training.models import Run
from tests.api_errors import error_fields
from tests.guard_samples import flagged_guards

pytestmark = pytest.mark.django_db

PROMOTE = "/api/campaigns/helpful/leaderboard/promote/"
ROLES = [("lead", 200), ("engineer", 200), ("reviewer", 403), ("labeler", 403), ("outsider", 404), (None, 401)]


@pytest.fixture
def flagged(judged_campaign, engineer):
    """'mixed' clears the gate against the best ('bad'), but the PPO run that made it is flagged."""
    good, mixed, bad = (Policy.objects.get(campaign=judged_campaign, name=n) for n in ("good", "mixed", "bad"))
    Policy.objects.filter(pk=bad.pk).update(is_best=True)
    guards = flagged_guards()
    Policy.objects.filter(pk=mixed.pk).update(parent=bad, guards=guards)
    run = Run.objects.create(campaign=judged_campaign, kind=Run.Kind.PPO, policy=bad, produced_policy=mixed,
                             state=Run.State.SUCCEEDED, summary={"status": "succeeded", "guards": guards}, created_by=engineer)
    mixed.refresh_from_db()
    return mixed, run


def best(campaign):
    return list(Policy.objects.filter(campaign=campaign, is_best=True).values_list("name", flat=True))


@pytest.mark.parametrize("role, ok", ROLES)
def test_it_refuses_a_flagged_version_without_an_override(users_by_role, api_as, judged_campaign, flagged, role, ok):
    mixed, _ = flagged
    response = api_as(users_by_role.get(role)).post(PROMOTE, {"policy": mixed.pk}, format="json")
    assert response.status_code == (409 if ok == 200 else ok)
    if ok == 200:
        body = response.json()
        assert body["flagged"] is True and body["reasons"] == mixed.flag_reasons
        assert "flagged by its guards" in body["detail"] and mixed.flag_reasons[0] in body["detail"]
        assert '"override": true' in body["override"]
    assert best(judged_campaign) == ["bad"] and not Promotion.objects.exists()


@pytest.mark.parametrize("note", ["", "   "])
def test_it_refuses_an_override_without_a_note(users_by_role, api_as, judged_campaign, flagged, note):
    mixed, _ = flagged
    response = api_as(users_by_role["engineer"]).post(PROMOTE, {"policy": mixed.pk, "override": True, "note": note}, format="json")
    assert response.status_code == 400 and error_fields(response) == {"note"}
    assert best(judged_campaign) == ["bad"] and not Promotion.objects.exists()


@pytest.mark.parametrize("role, ok", ROLES)
def test_it_promotes_a_flagged_version_with_an_override_and_records_who_when_and_why(
    users_by_role, api_as, judged_campaign, flagged, role, ok,
):
    mixed, _ = flagged
    user = users_by_role.get(role)
    note = "The short answers are what the labelers asked for in this campaign."
    response = api_as(user).post(PROMOTE, {"policy": mixed.pk, "override": True, "note": f"  {note} "}, format="json")
    assert response.status_code == ok
    if ok != 200:
        assert best(judged_campaign) == ["bad"] and not Promotion.objects.exists()
        return
    assert response.json()["promoted"] == "mixed" and response.json()["override"] is True
    assert best(judged_campaign) == ["mixed"]
    promotion = Promotion.objects.get()
    assert (promotion.policy, promotion.promoted_by, promotion.override, promotion.note) == (mixed, user, True, note)
    assert promotion.flag_reasons == mixed.flag_reasons and promotion.created_at is not None and promotion.low > 0
    standing = next(s for s in api_as(user).get("/api/campaigns/helpful/leaderboard/").json()["standings"] if s["name"] == "mixed")
    assert standing["override"] == {"by": role, "at": promotion.created_at.isoformat(), "note": note,
                                    "reasons": mixed.flag_reasons}


def test_an_unflagged_version_is_promoted_as_before_and_recorded_without_an_override(users_by_role, api_as, judged_campaign):
    good, mixed, bad = (Policy.objects.get(campaign=judged_campaign, name=n) for n in ("good", "mixed", "bad"))
    Policy.objects.filter(pk=bad.pk).update(is_best=True)
    response = api_as(users_by_role["lead"]).post(PROMOTE, {"policy": mixed.pk}, format="json")
    assert response.status_code == 200 and response.json()["override"] is False
    promotion = Promotion.objects.get()
    assert (promotion.policy, promotion.override, promotion.note, promotion.flag_reasons) == (mixed, False, "", [])


def test_the_run_page_warns_and_the_leaderboard_page_asks_for_a_note(client, users_by_role, judged_campaign, flagged):
    mixed, run = flagged
    client.force_login(users_by_role["engineer"])
    run_page = client.get(f"/campaigns/helpful/runs/{run.pk}/").content.decode()
    assert "Flagged by its guards" in run_page and 'data-field="guard-warning" hidden' not in run_page

    page = client.get("/campaigns/helpful/leaderboard/").content.decode()
    row = page[page.index(f'data-policy="{mixed.pk}"'):]
    row = row[:row.index("</tr>")]
    assert '<span class="badge guard-flagged">flagged</span>' in row and mixed.flag_reasons[0] in row
    assert '<input type="hidden" name="override" value="1">' in row and 'name="note" required' in row
    assert "Promote anyway" in row and ">Promote</button>" not in row

    # Without a note nothing happens; with one the version is promoted and the note shown.
    response = client.post("/campaigns/helpful/leaderboard/promote/", {"policy": mixed.pk, "override": "1", "note": ""}, follow=True)
    assert "An override needs a note" in response.content.decode() and best(judged_campaign) == ["bad"]
    response = client.post("/campaigns/helpful/leaderboard/promote/", {"policy": mixed.pk}, follow=True)
    assert "flagged by its guards" in response.content.decode() and best(judged_campaign) == ["bad"]
    response = client.post("/campaigns/helpful/leaderboard/promote/",
                           {"policy": mixed.pk, "override": "1", "note": "Short is what we want here."}, follow=True)
    html = response.content.decode()
    assert best(judged_campaign) == ["mixed"] and "over its guards (your note is recorded)" in html
    assert "Promoted over its guards by engineer on " in html and "“Short is what we want here.”" in html
