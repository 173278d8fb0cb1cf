"""A skip reason reaches the lead, as the skip dialog promises: an API list and a page."""

import pytest

from labelhub.labeling import services

pytestmark = pytest.mark.django_db

REASON = "needs a lawyer <b>not me</b>"


@pytest.fixture
def skipped(tasks, labeler):
    assignment = services.next_task(labeler=labeler)
    services.assignment_skip(labeler=labeler, assignment_id=assignment.pk, reason=REASON)
    return assignment


@pytest.mark.parametrize("role", ["lead", "reviewer", "engineer"])
def test_content_readers_list_the_skips(skipped, api_as, users_by_role, role):
    response = api_as(users_by_role[role]).get("/api/campaigns/helpful/skips/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["task"], row["labeler"], row["reason"]) == (skipped.task_id, "labeler", REASON)
    assert row["prompt"] == skipped.task.prompt_id and row["skipped_at"]


@pytest.mark.parametrize(("role", "status"), [("labeler", 403), ("outsider", 404), (None, 401)])
def test_others_are_refused(skipped, api_as, users_by_role, role, status):
    user = users_by_role[role] if role else None
    assert api_as(user).get("/api/campaigns/helpful/skips/").status_code == status


def test_the_page_shows_the_reason_escaped(skipped, client, lead):
    client.force_login(lead)
    body = client.get("/campaigns/helpful/skips/").content.decode()
    assert "needs a lawyer &lt;b&gt;not me&lt;/b&gt;" in body and "<b>not me</b>" not in body
    assert 'href="/campaigns/helpful/skips/"' in client.get("/campaigns/helpful/").content.decode()


@pytest.mark.parametrize(("role", "status"), [("labeler", 403), ("outsider", 404)])
def test_the_page_refuses_labelers_and_outsiders(skipped, client, users_by_role, role, status):
    client.force_login(users_by_role[role])
    assert client.get("/campaigns/helpful/skips/").status_code == status


def test_the_page_asks_anonymous_users_to_sign_in(skipped, client):
    response = client.get("/campaigns/helpful/skips/")
    assert response.status_code == 302 and "/login/" in response["Location"]
