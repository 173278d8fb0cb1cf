"""Retrieval: PostgreSQL full-text search over the campaign's passages (GIN-indexed) finds the
passage that answers each question of the invented atlas first; the API's ``?q=`` shows what
retrieval would pick, to the roles that read campaign content."""

import json
from pathlib import Path

import pytest
from django.db import connection

from labelhub.campaigns import selectors, services
from labelhub.campaigns.models import Passage, passage_vector
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

ATLAS = Path(__file__).resolve().parents[2] / "fixtures" / "retrieval"
URL = "/api/campaigns/helpful/passages/"


@pytest.fixture
def atlas(campaign):
    services.passages_import(campaign=campaign, filename="atlas.md", data=(ATLAS / "atlas.md").read_bytes())
    return [json.loads(line) for line in (ATLAS / "questions.jsonl").read_text("utf-8").splitlines()]


def test_it_finds_the_passage_that_answers_each_question_first(campaign, atlas, django_assert_num_queries):
    for item in atlas:
        with django_assert_num_queries(1):
            found = selectors.passages_retrieve(campaign_id=campaign.id, text=item["question"], k=3)
        assert item["answer"] in found[0].text, (item["question"], [p.text for p in found])
        assert all(item["answer"] not in p.text for p in found[1:])


def test_it_finds_nothing_for_words_no_passage_has_and_keeps_to_its_campaign(campaign, other_campaign, atlas):
    assert selectors.passages_retrieve(campaign_id=campaign.id, text="bicycle umbrella", k=3) == []
    assert selectors.passages_retrieve(campaign_id=campaign.id, text="", k=3) == []
    assert selectors.passages_retrieve(campaign_id=other_campaign.id, text="capital of Tanbrisel", k=3) == []


def test_it_reads_query_syntax_as_plain_words(campaign, atlas):
    found = selectors.passages_retrieve(campaign_id=campaign.id, text="\"Tanbrisel\" -capital OR (!Lotanfi & ", k=2)
    assert {p.document for p in found} == {"atlas"} and "Tanbrisel" in found[0].text + found[1].text


def test_its_query_can_use_the_gin_index(campaign, atlas):
    """The index's expression is the query's (a different config or column order would not match)."""
    qs = Passage.objects.annotate(search=passage_vector()).filter(search=selectors.retrieval_query("capital of Tanbrisel"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = qs.explain()
    assert "passage_search" in plan, plan


@pytest.mark.parametrize("role, status", role_cases(
    {"lead": 200, "labeler": 403, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": ANON}))
def test_its_search_answers_the_roles_that_read_content(client_as, campaign, atlas, role, status):
    response = client_as(role).get(URL, {"q": "Who invented the Dorlum engine?", "k": 2})
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert len(body) == 2 and "Tisbrimi" in body[0]["text"] and body[0]["rank"] >= body[1]["rank"]


def test_its_list_pages_through_the_collection(client_as, campaign, atlas):
    response = client_as("reviewer").get(URL)
    assert response.status_code == 200
    body = response.json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [r["document"] for r in rows] == ["atlas"] * campaign.passages.count()
