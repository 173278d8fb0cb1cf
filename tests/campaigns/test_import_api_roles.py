"""/api/campaigns/<slug>/imports/: only leads upload prompts."""

import pytest

from tests.api_errors import error_fields
from tests.campaigns.conftest import ANON, role_cases, written

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 201, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": ANON}),
)
def test_it_lets_only_leads_import(client_as, campaign, upload, role, status):
    file = upload("prompts.jsonl", '{"prompt": "Explain recursion", "completions": ["It calls itself."]}\n')
    response = client_as(role).post(URL, {"file": file}, format="multipart")
    assert response.status_code == status
    expected = {"prompts": 1, "policies": 1, "completions": 1, "imports": 1} if status == 201 else dict.fromkeys(
        ["prompts", "policies", "completions", "imports"], 0
    )
    assert written(campaign) == expected


def test_it_names_the_field_when_no_file_is_sent(client_as, campaign):
    response = client_as("lead").post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert error_fields(response) == {"file"}
    assert written(campaign)["imports"] == 0
