"""The Documents page: readers of campaign content see the passages and what retrieval picks
for a question (escaped); leads and engineers import files and make a policy's
retrieval-augmented version; labelers and outsiders are refused."""

import pytest

from labelhub.campaigns.models import UNSUPPORTED_FLAG, Policy
from tests.campaigns.conftest import role_cases

pytestmark = pytest.mark.django_db

URL = "/campaigns/helpful/documents/"


@pytest.mark.parametrize("role, status", role_cases(
    {"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": 302}))
def test_it_shows_the_collection_to_readers_of_content(page_as, campaign, role, status):
    assert page_as(role).get(URL).status_code == status


def test_it_imports_and_searches_escaping_what_it_shows(page_as, campaign, upload):
    page = page_as("engineer")
    response = page.post(URL, {"file": upload("evil.md", "## <script>alert(1)</script>\n\nThe capital of Veltoria is Quenmarch.\n")})
    assert response.status_code == 302 and campaign.passages.count() == 1
    body = page.get(URL, {"q": "capital of Veltoria"}).content.decode()
    assert "Quenmarch" in body and "<script>alert(1)</script>" not in body and "&lt;script&gt;" in body


def test_it_shows_a_refused_file_line_by_line_and_writes_nothing(page_as, campaign, upload):
    response = page_as("lead").post(URL, {"file": upload("f.jsonl", '{"text": "ok"}\n{"text": ""}\n')})
    assert response.status_code == 400
    assert "Import rejected" in response.content.decode() and campaign.passages.count() == 0


def test_a_reviewer_cannot_import(page_as, campaign, upload):
    assert page_as("reviewer").post(URL, {"file": upload("a.txt", "text")}).status_code == 403
    assert campaign.passages.count() == 0


def test_it_makes_a_retrieval_version_of_a_policy(page_as, campaign, upload, policy):
    page = page_as("engineer")
    page.post(URL, {"action": "retrieval", "policy": policy.id, "retrieval_k": 3})
    assert not campaign.policies.filter(retrieval_k__gt=0).exists()  # no documents yet: refused
    page.post(URL, {"file": upload("a.txt", "Some fact.")})
    assert page.post(URL, {"action": "retrieval", "policy": policy.id, "retrieval_k": 3}).status_code == 302
    rag = Policy.objects.get(campaign=campaign, name=f"{policy.name}-rag3")
    assert (rag.retrieval_k, rag.parent, rag.base_model) == (3, policy, policy.base_model)
    campaign.refresh_from_db()
    assert UNSUPPORTED_FLAG in campaign.flag_vocabulary
    page.post(URL, {"action": "retrieval", "policy": policy.id, "retrieval_k": 11})
    page.post(URL, {"action": "retrieval", "policy": rag.id, "retrieval_k": 2})
    assert campaign.policies.filter(retrieval_k__gt=0).count() == 1
