"""A campaign's document collection: .txt, .md and .jsonl files become passages, all or
nothing, each refusal naming its line and field; only leads and engineers import."""

import json

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.imports import ImportRejected
from tests.api_errors import error_fields, error_messages
from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/passages/import/"


def texts(campaign) -> list[str]:
    return list(campaign.passages.order_by("id").values_list("text", flat=True))


def test_it_splits_a_text_file_at_blank_lines(campaign):
    data = b"First paragraph,\nstill the first.\n\n\nSecond one.\n"
    result = services.passages_import(campaign=campaign, filename="notes.txt", data=data)
    assert (result.created, result.skipped) == (2, 0)
    assert texts(campaign) == ["First paragraph,\nstill the first.", "Second one."]
    assert list(campaign.passages.values_list("document", "position")) == [("notes", 0), ("notes", 1)]


def test_it_splits_markdown_at_headings(campaign):
    data = b"# Atlas\n\nIntro.\n\n## Veltoria\n\nThe capital of Veltoria is Quenmarch.\n\nIt is cold.\n\n## Ardune\n\nPolwise.\n"
    services.passages_import(campaign=campaign, filename="atlas.md", data=data)
    assert texts(campaign) == [
        "# Atlas\n\nIntro.", "## Veltoria\n\nThe capital of Veltoria is Quenmarch.\n\nIt is cold.", "## Ardune\n\nPolwise."]


def test_it_reads_one_passage_a_jsonl_line_and_skips_what_it_has(campaign):
    data = "\n".join(json.dumps(row) for row in [
        {"text": "Quenmarch is the capital.", "title": "Veltoria"}, {"text": "Polwise is the capital."},
        {"text": "Quenmarch is the capital.", "title": "again"}]).encode()
    first = services.passages_import(campaign=campaign, filename="facts.jsonl", data=data)
    again = services.passages_import(campaign=campaign, filename="facts.jsonl", data=data)
    assert (first.created, first.skipped, again.created, again.skipped) == (2, 1, 0, 3)
    assert list(campaign.passages.values_list("document", flat=True)) == ["Veltoria", ""]


@pytest.mark.parametrize("name, content, line, field", [
    ("facts.jsonl", '{"text": "ok"}\n{"text": ""}\n', 2, "text"),
    ("facts.jsonl", '{"text": "ok"}\nnot json\n', 2, "line"),
    ("facts.jsonl", '{"txt": "typo"}\n', 1, "txt"),
    ("facts.jsonl", '{"text": "ok", "title": 3}\n', 1, "title"),
    ("facts.jsonl", '["text"]\n', 1, "line"),
    ("notes.txt", "fine\n\nbad \x00 byte\n", 3, "text"),
    ("notes.txt", "\n\n  \n", None, "file"),
    ("notes.pdf", "anything", None, "file"),
])
def test_it_refuses_a_bad_file_whole_naming_the_line(campaign, name, content, line, field):
    services.passages_import(campaign=campaign, filename="kept.txt", data=b"Already here.")
    with pytest.raises(ImportRejected) as refused:
        services.passages_import(campaign=campaign, filename=name, data=content.encode())
    assert [(e.line, e.field) for e in refused.value.errors] == [(line, field)]
    assert texts(campaign) == ["Already here."]


def test_it_refuses_text_that_is_not_utf8(campaign):
    with pytest.raises(ImportRejected) as refused:
        services.passages_import(campaign=campaign, filename="notes.txt", data=b"ok\n\n\xff\xfe")
    assert [(e.line, e.field) for e in refused.value.errors] == [(3, "file")]
    assert texts(campaign) == []


def test_it_refuses_a_passage_over_the_text_limit(campaign, settings):
    settings.LABELHUB_TEXT_MAX_BYTES = 100
    with pytest.raises(ImportRejected) as refused:
        services.passages_import(campaign=campaign, filename="notes.txt", data=b"short\n\n" + b"long " * 40)
    assert [(e.line, e.field) for e in refused.value.errors] == [(3, "text")]
    assert texts(campaign) == []


@pytest.mark.parametrize("role, status", role_cases(
    {"lead": 201, "labeler": 403, "reviewer": 403, "engineer": 201, "outsider": 404, "anonymous": ANON}))
def test_it_lets_leads_and_engineers_import(client_as, campaign, upload, role, status):
    response = client_as(role).post(URL, {"file": upload("atlas.md", "## Veltoria\n\nQuenmarch.\n")}, format="multipart")
    assert response.status_code == status
    assert campaign.passages.count() == (1 if status == 201 else 0)
    if status == 201:
        assert response.json() == {"created": 1, "skipped": 0}


def test_its_api_answers_a_refusal_with_the_lines_at_fault(client_as, campaign, upload):
    response = client_as("lead").post(URL, {"file": upload("f.jsonl", '{"text": "a"}\n{"text": 5}\n')}, format="multipart")
    assert response.status_code == 400
    assert error_fields(response) == {"text"}
    assert response.json()["errors"][0]["line"] == 2
    assert campaign.passages.count() == 0


def test_its_api_refuses_a_file_over_the_import_limit(client_as, campaign, upload, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 10
    response = client_as("lead").post(URL, {"file": upload("notes.txt", "x" * 11)}, format="multipart")
    assert response.status_code == 400
    assert "over the limit" in error_messages(response, "file")[0]
    assert campaign.passages.count() == 0
