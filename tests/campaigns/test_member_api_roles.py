"""/api/campaigns/<slug>/members/: leads, reviewers and engineers list members; only leads
add or remove them."""

import pytest

from labelhub.campaigns.models import Membership
from tests.api_errors import error_fields
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/members/"


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON}),
)
def test_it_lists_members_to_leads_reviewers_and_engineers(client_as, campaign, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        listed = {(m["username"], m["role"]) for m in response.json()["results"]}
        assert listed == {("lead", "lead"), ("labeler", "labeler"), ("reviewer", "reviewer"), ("engineer", "engineer")}


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 201, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_add_members(client_as, campaign, make_user, role, status):
    newcomer = make_user("newcomer")
    response = client_as(role).post(URL, {"username": "newcomer", "role": "labeler"}, format="json")
    assert response.status_code == status
    assert campaign.memberships.filter(user=newcomer, role="labeler").exists() == (status == 201)


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 204, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_remove_members(client_as, campaign, labeler, role, status):
    membership = campaign.memberships.get(user=labeler)
    response = client_as(role).delete(f"{URL}{membership.id}/")
    assert response.status_code == status
    assert Membership.objects.filter(pk=membership.pk).exists() == (status != 204)


def test_it_names_the_field_when_the_user_does_not_exist(client_as, campaign):
    response = client_as("lead").post(URL, {"username": "nobody", "role": "labeler"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"username"}


def test_it_names_the_field_when_the_role_is_unknown(client_as, campaign, outsider):
    response = client_as("lead").post(URL, {"username": "outsider", "role": "owner"}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"role"}
    assert not campaign.memberships.filter(user=outsider).exists()


def test_it_gives_a_user_a_second_role(client_as, campaign, labeler):
    response = client_as("lead").post(URL, {"username": "labeler", "role": "reviewer"}, format="json")
    assert response.status_code == 201
    assert set(campaign.memberships.filter(user=labeler).values_list("role", flat=True)) == {"labeler", "reviewer"}


def test_it_adds_an_existing_membership_once(client_as, campaign, labeler):
    response = client_as("lead").post(URL, {"username": "labeler", "role": "labeler"}, format="json")
    assert response.status_code == 201
    assert campaign.memberships.filter(user=labeler, role="labeler").count() == 1
