"""A bad upload is refused as a whole: each error names the line and the field, and nothing
is written — not even the good lines before it."""

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.imports import ImportRejected
from tests.api_errors import error_fields
from tests.campaigns.conftest import written

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"
GOOD = '{"prompt": "A good line", "completions": [{"text": "ok", "policy": "new-policy"}]}\n'

JSONL_CASES = {
    "bad-json": ('{"prompt": "unterminated\n', 2, "json"),
    "not-an-object": ('["prompt", "x"]\n', 2, "json"),
    "missing-prompt": ('{"split": "train"}\n', 2, "prompt"),
    "prompt-not-a-string": ('{"prompt": 42}\n', 2, "prompt"),
    "empty-prompt": ('{"prompt": "   "}\n', 2, "prompt"),
    "messages-empty": ('{"messages": []}\n', 2, "messages"),
    "messages-not-a-list": ('{"messages": "hi"}\n', 2, "messages"),
    "turn-not-an-object": ('{"messages": ["hi"]}\n', 2, "messages[0]"),
    "turn-bad-role": ('{"messages": [{"role": "robot", "content": "hi"}]}\n', 2, "messages[0].role"),
    "turn-without-role": ('{"messages": [{"content": "hi"}]}\n', 2, "messages[0].role"),
    "turn-without-content": ('{"messages": [{"role": "user"}]}\n', 2, "messages[0].content"),
    "turn-content-not-a-string": ('{"messages": [{"role": "user", "content": 7}]}\n', 2, "messages[0].content"),
    "unknown-split": ('{"prompt": "x", "split": "test"}\n', 2, "split"),
    "split-not-a-string": ('{"prompt": "x", "split": ["train"]}\n', 2, "split"),
    "metadata-not-an-object": ('{"prompt": "x", "metadata": [1]}\n', 2, "metadata"),
    "completions-not-a-list": ('{"prompt": "x", "completions": "y"}\n', 2, "completions"),
    "completion-not-an-object": ('{"prompt": "x", "completions": [3]}\n', 2, "completions[0]"),
    "completion-without-text": ('{"prompt": "x", "completions": [{"policy": "p"}]}\n', 2, "completions[0].text"),
    "completion-empty-text": ('{"prompt": "x", "completions": [""]}\n', 2, "completions[0].text"),
    "completion-policy-not-a-string": (
        '{"prompt": "x", "completions": [{"text": "y", "policy": 5}]}\n', 2, "completions[0].policy",
    ),
    "completion-policy-too-long": (
        '{"prompt": "x", "completions": [{"text": "y", "policy": "' + "p" * 121 + '"}]}\n', 2,
        "completions[0].policy",
    ),
    "completion-metadata-not-an-object": (
        '{"prompt": "x", "completions": [{"text": "y", "metadata": "z"}]}\n', 2, "completions[0].metadata",
    ),
    "nul-in-prompt": ('{"prompt": "a\\u0000b"}\n', 2, "prompt"),
    "nul-in-completion": ('{"prompt": "x", "completions": ["a\\u0000b"]}\n', 2, "completions[0].text"),
    "nul-in-metadata-key": ('{"prompt": "x", "metadata": {"a\\u0000": 1}}\n', 2, "metadata"),
    "nul-in-turn": ('{"messages": [{"role": "user", "content": "\\u0000"}]}\n', 2, "messages[0].content"),
    "nul-in-policy": ('{"prompt": "x", "completions": [{"text": "y", "policy": "p\\u0000"}]}\n', 2,
                      "completions[0].policy"),
    "nan-in-metadata": ('{"prompt": "x", "metadata": {"score": NaN}}\n', 2, "json"),
    "nested-beyond-the-parser": ('{"prompt": "x", "metadata": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}\n", 2, "json"),
    # deeper than the 64 levels allowed, well within what the parser reads (how deep that is
    # depends on the stack already in use: 900 levels stopped fitting with four more middlewares)
    "metadata-nested-too-deep": ('{"prompt": "x", "metadata": {"a": ' + "[" * 300 + "]" * 300 + "}}\n", 2, "metadata"),
    "completion-metadata-nested-too-deep": (
        '{"prompt": "x", "completions": [{"text": "y", "metadata": {"a": ' + "[" * 80 + "]" * 80 + "}}]}\n", 2,
        "completions[0].metadata",
    ),
    "infinity-in-completion-metadata": (
        '{"prompt": "x", "completions": [{"text": "y", "metadata": {"p": -Infinity}}]}\n', 2, "json",
    ),
}

CSV_CASES = {
    "no-prompt-column": ("text,completion\nx,y\n", 1, "header"),
    "bad-json-cell": ("prompt,metadata\nok,{}\nx,{oops}\n", 3, "metadata"),
    "bad-messages-cell": ("messages\n[not json\n", 2, "messages"),
    "bad-completion-metadata": ("prompt,completion,completion_metadata\nx,y,[1\n", 2, "completion_metadata"),
    "extra-fields": ("prompt,completion\nx,y,z\n", 2, "csv"),
    "short-row": ("prompt,split,completion\nx,train,y\nshort,train\n", 3, "csv"),
    "one-cell-row": ("prompt,completion\nok,fine\nlonely\n", 3, "csv"),
    "short-row-after-a-quoted-line-break": ('prompt,completion\n"two\nlines",fine\nshort\n', 4, "csv"),
    "column-named-twice": ("prompt,completion,completion\nx,y,z\n", 1, "header"),
    "empty-prompt-with-completion": ("prompt,completion\nok,fine\n,orphan\n", 3, "prompt"),
    "unknown-split": ("prompt,split\nx,dev\n", 2, "split"),
    "metadata-not-an-object": ('prompt,metadata\nx,"[1, 2]"\n', 2, "metadata"),
    "nul-in-prompt": ("prompt\na\x00b\n", 2, "prompt"),
    "nan-in-metadata": ('prompt,metadata\nx,"{""score"": NaN}"\n', 2, "metadata"),
    "metadata-nested-beyond-the-parser": ("prompt,metadata\nx," + "[" * 100_000 + "\n", 2, "metadata"),
}


@pytest.fixture
def post_import(client_as, campaign, completion, upload):
    """Posts as the lead into a campaign that already has a prompt, a policy and a completion."""

    def post(name, content):
        return client_as("lead").post(URL, {"file": upload(name, content)}, format="multipart")

    return post


def assert_rejected(response, line, field):
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "Import rejected; nothing was written."
    assert {"line": line, "field": field} in [{"line": e["line"], "field": e["field"]} for e in body["errors"]]
    assert all(e["message"] for e in body["errors"])


@pytest.mark.parametrize("content, line, field", JSONL_CASES.values(), ids=JSONL_CASES.keys())
def test_it_rejects_a_bad_jsonl_line(post_import, campaign, content, line, field):
    before = written(campaign)
    response = post_import("batch.jsonl", GOOD + content)
    assert_rejected(response, line, field)
    assert written(campaign) == before


@pytest.mark.parametrize("content, line, field", CSV_CASES.values(), ids=CSV_CASES.keys())
def test_it_rejects_a_bad_csv_row(post_import, campaign, content, line, field):
    before = written(campaign)
    response = post_import("batch.csv", content)
    assert_rejected(response, line, field)
    assert written(campaign) == before


def test_it_says_how_many_cells_a_short_or_long_row_has(post_import, campaign):
    response = post_import("batch.csv", "prompt,split,completion\nok,train,fine\nshort,train\nlong,train,a,b\n")
    assert [(e["line"], e["field"], e["message"]) for e in response.json()["errors"]] == [
        (3, "csv", "has 2 cells, but the header has 3 columns"),
        (4, "csv", "has 4 cells, but the header has 3 columns"),
    ]


@pytest.mark.parametrize("name", ["batch.jsonl", "batch.csv"])
def test_it_rejects_text_that_is_not_utf8(post_import, campaign, name):
    before = written(campaign)
    content = (GOOD if name.endswith("jsonl") else "prompt\n").encode() + '{"prompt": "café"}\n'.encode("latin-1")
    response = post_import(name, content)
    assert_rejected(response, 2, "file")
    assert "UTF-8" in response.json()["errors"][0]["message"]
    assert written(campaign) == before


@pytest.mark.parametrize("content", ["\n\n  \n", "prompt\n"], ids=["blank-lines", "header-only"])
def test_it_rejects_a_file_without_prompts(post_import, campaign, content):
    before = written(campaign)
    response = post_import("batch.csv" if content.startswith("prompt") else "batch.jsonl", content)
    assert_rejected(response, None, "file")
    assert written(campaign) == before


def test_it_rejects_an_empty_file(post_import, campaign):
    before = written(campaign)
    response = post_import("batch.jsonl", "")
    assert response.status_code == 400
    assert error_fields(response) == {"file"}
    assert written(campaign) == before


def test_it_rejects_an_unknown_file_type(post_import, campaign):
    before = written(campaign)
    response = post_import("batch.txt", GOOD)
    assert_rejected(response, None, "file")
    assert ".jsonl, .csv, .parquet, .arrow, or .zip" in response.json()["errors"][0]["message"]
    assert written(campaign) == before


def test_it_reports_every_bad_line_at_once(post_import, campaign):
    response = post_import("batch.jsonl", '{"prompt": 1}\n' + GOOD + '{"prompt": "x", "split": "dev"}\nnot json\n')
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(1, "prompt"), (3, "split"), (4, "json")]


def test_it_caps_the_number_of_errors_reported(post_import):
    response = post_import("batch.jsonl", "not json\n" * 500)
    assert response.status_code == 400
    assert len(response.json()["errors"]) == 100


def test_it_writes_nothing_when_the_service_refuses(campaign, lead):
    before = written(campaign)
    with pytest.raises(ImportRejected) as refused:
        services.prompts_import(campaign=campaign, user=lead, filename="b.jsonl", data=(GOOD + "{").encode())
    assert [(e.line, e.field) for e in refused.value.errors] == [(2, "json")]
    assert written(campaign) == before
