"""Inviting tells a lead nothing about users outside their campaigns: the answer, and what
the lead can read afterwards, are the same whether or not an account has that name."""

import pytest

pytestmark = pytest.mark.django_db

MEMBERS = "/api/campaigns/helpful/members/"


def invite(client, **who):
    return client.post(MEMBERS, {**who, "role": "labeler"}, format="json")


def without_name(body: dict) -> dict:
    return {key: str(value).replace(body["invitee"], "<name>") for key, value in body.items()}


@pytest.mark.parametrize("field, existing, missing", [
    ("username", "outsider", "nobody-here"),
    ("email", "outsider@example.org", "nobody@example.org"),
])
def test_an_existing_and_a_missing_person_get_the_same_answer(client_as, campaign, outsider, field, existing, missing):
    outsider.email = "outsider@example.org"
    outsider.save()
    lead = client_as("lead")
    to_someone, to_no_one = invite(lead, **{field: existing}), invite(lead, **{field: missing})
    assert to_someone.status_code == to_no_one.status_code == 202
    assert set(to_someone.json()) == set(to_no_one.json()) == {"detail", "invitee", "by", "role"}
    assert without_name(to_someone.json()) == without_name(to_no_one.json())
    assert to_someone.json()["invitee"] == existing and to_no_one.json()["invitee"] == missing

    listed = {i["invitee"]: i for i in lead.get("/api/campaigns/helpful/invitations/").json()["results"]}
    assert set(listed) == {existing, missing}
    for key in ("state", "role", "by", "invited_by"):
        assert listed[existing][key] == listed[missing][key]
    assert listed[existing]["state"] == "pending"


def test_the_member_list_shows_no_one_who_has_not_accepted(client_as, campaign, outsider):
    lead = client_as("lead")
    invite(lead, username="outsider")
    listed = {m["username"] for m in lead.get(MEMBERS).json()["results"]}
    assert "outsider" not in listed
