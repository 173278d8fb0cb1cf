import pytest

from labelhub.campaigns.models import Membership, Policy, Role
from tests.api_errors import error_messages

pytestmark = pytest.mark.django_db


def test_it_refuses_a_policy_that_descends_from_itself(campaign, engineer, api_as):
    base = Policy.objects.create(campaign=campaign, name="base")
    child = Policy.objects.create(campaign=campaign, name="child", parent=base)
    client = api_as(engineer)
    assert client.patch(f"/api/campaigns/helpful/policies/{base.pk}/", {"parent": base.pk}, format="json").status_code == 400
    response = client.patch(f"/api/campaigns/helpful/policies/{base.pk}/", {"parent": child.pk}, format="json")
    assert response.status_code == 400
    assert "descend" in error_messages(response, "parent")[0]
    base.refresh_from_db()
    assert base.parent is None


def test_it_keeps_the_last_lead(campaign, lead, api_as, make_user):
    own = Membership.objects.get(campaign=campaign, user=lead, role=Role.LEAD)
    response = api_as(lead).delete(f"/api/campaigns/helpful/members/{own.pk}/")
    assert response.status_code == 409
    assert Membership.objects.filter(pk=own.pk).exists()
    second = Membership.objects.create(campaign=campaign, user=make_user("lead2"), role=Role.LEAD)
    assert api_as(lead).delete(f"/api/campaigns/helpful/members/{own.pk}/").status_code == 204
    assert Membership.objects.filter(campaign=campaign, role=Role.LEAD).get() == second
