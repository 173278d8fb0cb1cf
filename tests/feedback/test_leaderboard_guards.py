"""The leaderboard shows each version's guard figures (policy / base) and a flag when the run
that produced it broke a guard, in the API and on the page, to every role that reads it."""

import pytest

from labelhub.campaigns.models import Policy
from tests.guard_samples import fine_guards, flagged_guards

pytestmark = pytest.mark.django_db

READERS = [("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404), (None, 401)]


@pytest.fixture
def guarded(judged_campaign):
    Policy.objects.filter(campaign=judged_campaign, name="good").update(guards=fine_guards())
    Policy.objects.filter(campaign=judged_campaign, name="mixed").update(guards=flagged_guards())
    return judged_campaign


@pytest.mark.parametrize("role, status", READERS)
def test_the_api_gives_each_versions_guards_and_flag(users_by_role, api_as, guarded, role, status):
    response = api_as(users_by_role.get(role)).get("/api/campaigns/helpful/leaderboard/")
    assert response.status_code == status
    if status != 200:
        return
    rows = {s["name"]: s for s in response.json()["standings"]}
    flagged = flagged_guards()
    assert (rows["good"]["flagged"], rows["good"]["flag_reasons"], rows["good"]["guards"]) == (False, [], fine_guards())
    assert (rows["mixed"]["flagged"], rows["mixed"]["flag_reasons"], rows["mixed"]["guards"]) == (True, flagged["reasons"], flagged)
    assert (rows["bad"]["flagged"], rows["bad"]["flag_reasons"], rows["bad"]["guards"]) == (False, [], None)
    assert all(s["override"] is None for s in rows.values())


@pytest.mark.parametrize("role, status", [(r, s) for r, s in READERS if r is not None])
def test_the_page_shows_the_figures_and_flags_the_version(client, users_by_role, guarded, role, status):
    client.force_login(users_by_role[role])
    response = client.get("/campaigns/helpful/leaderboard/")
    assert response.status_code == status
    if status != 200:
        return
    html = response.content.decode()
    rows = {name: html[html.index(f"<td>{name}"):] for name in ("good", "mixed", "bad")}
    rows = {name: row[:row.index("</tr>")] for name, row in rows.items()}
    assert '<span class="badge guard-ok">guards ok</span>' in rows["good"]
    assert "words 14.0 / 16.0 · in-vocab 71% / 62% · distinct-2 0.19 / 0.18 · KL 2.50 (target 4.0)" in rows["good"]
    assert '<span class="badge guard-flagged">flagged</span>' in rows["mixed"]
    assert "<li>answers collapsed to 1.0 words on average (fewer than 5)</li>" in rows["mixed"]
    assert "guard-" not in rows["bad"]
    assert "Promote" not in rows["mixed"]  # below the reference (good): promoting it cannot work, with or without a note


@pytest.mark.parametrize("role, offered", [("lead", True), ("engineer", True), ("reviewer", False)])
def test_the_page_offers_an_override_for_a_flagged_version_that_clears_the_best(client, users_by_role, guarded, role, offered):
    Policy.objects.filter(campaign=guarded, name="bad").update(is_best=True)  # the reference now: mixed clears it
    client.force_login(users_by_role[role])
    html = client.get("/campaigns/helpful/leaderboard/").content.decode()
    row = html[html.index("<td>mixed"):]
    row = row[:row.index("</tr>")]
    assert ("Promote anyway" in row) == offered
    assert ("Why promote it despite its guards?" in row) == offered
    assert ">Promote</button>" not in row  # flagged: only with a note
