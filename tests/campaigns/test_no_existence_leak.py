"""A non-member gets the same answer whether a campaign exists or not: same status, same body,
on every campaign URL of the API and the pages, for reads and writes (and a labeler of another
campaign asking for its next task)."""

import pytest

pytestmark = pytest.mark.django_db

API = [
    ("get", ""), ("patch", ""), ("delete", ""),
    ("get", "members/"), ("post", "members/"), ("get", "prompts/"), ("get", "prompts/1/"), ("get", "policies/"),
    ("post", "policies/"), ("get", "completions/"), ("post", "imports/"), ("get", "tasks/"),
    ("post", "tasks/generate/"), ("get", "tasks/progress/"), ("get", "judgments/"), ("get", "snapshots/"),
    ("post", "snapshots/"), ("get", "snapshots/1/download/"), ("get", "leaderboard/"),
    ("post", "leaderboard/promote/"), ("post", "pair-imports/"), ("get", "runs/"), ("post", "runs/"),
    ("get", "runs/1/metrics/"), ("get", "reward-models/"), ("get", "loop-rounds/"), ("post", "loop-rounds/"),
]
PAGES = ["", "import/", "runs/", "runs/1/", "snapshots/", "leaderboard/"]


def answer(response):
    return response.status_code, response.content.replace(b"helpful", b"SLUG").replace(b"no-such", b"SLUG")


@pytest.mark.parametrize("method, tail", API)
def test_the_api_answers_a_non_member_alike_for_a_campaign_that_exists_or_not(api_as, outsider, campaign, method, tail):
    client = api_as(outsider)
    real = getattr(client, method)(f"/api/campaigns/helpful/{tail}", {}, format="json")
    missing = getattr(client, method)(f"/api/campaigns/no-such/{tail}", {}, format="json")
    assert real.status_code == 404
    assert answer(real) == answer(missing)


@pytest.mark.parametrize("tail", PAGES)
def test_the_pages_answer_a_non_member_alike(client, outsider, campaign, tail):
    client.force_login(outsider)
    real, missing = client.get(f"/campaigns/helpful/{tail}"), client.get(f"/campaigns/no-such/{tail}")
    assert real.status_code == 404
    assert answer(real) == answer(missing)


def test_next_task_and_the_labeling_page_answer_alike(api_as, client, outsider, campaign):
    api = api_as(outsider)
    assert answer(api.post("/api/labeling/next/?campaign=helpful")) == answer(api.post("/api/labeling/next/?campaign=no-such"))
    client.force_login(outsider)
    assert answer(client.get("/label/work/?campaign=helpful")) == answer(client.get("/label/work/?campaign=no-such"))
