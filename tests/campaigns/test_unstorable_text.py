"""PostgreSQL cannot store the NUL character in text or jsonb, and Python cannot encode
absurdly nested JSON: the API refuses both naming the field, instead of failing on save."""

import pytest

from labelhub.campaigns.models import Campaign, Completion, Policy
from tests.api_errors import error_fields

pytestmark = pytest.mark.django_db

NUL = "\u0000"


@pytest.mark.parametrize(
    "field, value",
    [
        ("metadata", {"note": f"a{NUL}b"}),
        ("generation_settings", {f"key{NUL}": 1}),
        ("text", f"a{NUL}b"),
    ],
)
def test_it_refuses_nul_in_a_completion(client_as, prompt, policy, field, value):
    body = {"prompt": prompt.id, "policy": policy.id, "text": "fine", field: value}
    response = client_as("engineer").post("/api/campaigns/helpful/completions/", body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert not Completion.objects.exists()


def test_it_refuses_nul_in_a_policy(client_as, campaign):
    body = {"name": "p", "generation_settings": {"stop": [f"{NUL}"]}}
    response = client_as("engineer").post("/api/campaigns/helpful/policies/", body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"generation_settings"}
    assert not Policy.objects.exists()


@pytest.mark.parametrize(
    "field, value",
    [("rating_axes", [{"name": f"help{NUL}"}]), ("flag_vocabulary", [f"unsafe{NUL}"]), ("guidelines", NUL)],
)
def test_it_refuses_nul_in_campaign_settings(client_as, campaign, field, value):
    response = client_as("lead").patch("/api/campaigns/helpful/", {field: value}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert Campaign.objects.get().guidelines_version == 1


@pytest.mark.parametrize("depth, status", [(60, 201), (100, 400)])
def test_it_refuses_absurdly_nested_metadata(client_as, prompt, policy, depth, status):
    nested = []
    for _ in range(depth):
        nested = [nested]
    body = {"prompt": prompt.id, "policy": policy.id, "text": "fine", "metadata": {"a": nested}}
    response = client_as("engineer").post("/api/campaigns/helpful/completions/", body, format="json")
    assert response.status_code == status
    if status == 400:
        assert error_fields(response) == {"metadata"}
    assert Completion.objects.exists() == (status == 201)
