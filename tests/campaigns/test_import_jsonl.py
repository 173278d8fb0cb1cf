"""Importing JSONL: one prompt (text or chat turns) per line, with optional split, metadata
and completions, each completion under a policy created on first use."""

import json

import pytest

from labelhub.campaigns.models import Completion, ImportBatch, Policy, Prompt, content_hash

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"


def jsonl(*objects) -> str:
    return "".join(json.dumps(o) + "\n" for o in objects)


@pytest.fixture
def post_import(client_as, campaign, upload):
    def post(name, content):
        return client_as("lead").post(URL, {"file": upload(name, content)}, format="multipart")

    return post


def test_it_imports_prompts_with_completions(post_import, campaign, lead):
    response = post_import("batch.jsonl", jsonl(
        {"prompt": "Explain recursion", "split": "held_out", "metadata": {"topic": "cs"},
         "completions": [{"text": "It calls itself.", "policy": "base-v1", "metadata": {"seed": 1}},
                         {"text": "Loops, but upside down.", "policy": "sft-v1"}]},
        {"prompt": "Name a prime", "completions": ["Seven."]},
    ))
    assert response.status_code == 201
    body = response.json()
    batch = ImportBatch.objects.get()
    expected = {
        "id": batch.id, "kind": "prompts", "filename": "batch.jsonl", "format": "jsonl", "state": "succeeded",
        "lines_total": 2, "lines_checked": 2, "progress": 1.0, "errors": [], "uploaded_by": "lead",
        "prompts_created": 2, "prompts_skipped": 0, "completions_created": 3, "completions_skipped": 0,
        "policies_created": 3, "judgments_created": 0, "judgments_skipped": 0,
    }
    assert {key: body[key] for key in expected} == expected
    assert body["finished_at"] is not None
    assert batch.uploaded_by == lead
    recursion = Prompt.objects.get(text="Explain recursion")
    assert (recursion.campaign, recursion.split, recursion.metadata) == (campaign, "held_out", {"topic": "cs"})
    assert recursion.content_hash == content_hash("Explain recursion")
    assert recursion.import_batch == batch
    assert {(c.policy.name, c.text, tuple(c.metadata)) for c in recursion.completions.all()} == {
        ("base-v1", "It calls itself.", ("seed",)),
        ("sft-v1", "Loops, but upside down.", ()),
    }
    prime = Prompt.objects.get(text="Name a prime")
    assert prime.split == "train"
    assert [(c.policy.name, c.text) for c in prime.completions.all()] == [("imported", "Seven.")]


def test_it_imports_chat_prompts(post_import):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
    response = post_import("chat.jsonl", jsonl({"messages": messages, "split": "held_out"}))
    assert response.status_code == 201
    prompt = Prompt.objects.get()
    assert (prompt.text, prompt.messages, prompt.is_chat) == ("", messages, True)
    assert prompt.content_hash == content_hash(messages)


def test_it_uses_a_policy_the_campaign_already_has(post_import, policy):
    response = post_import("p.jsonl", jsonl({"prompt": "Q", "completions": [{"text": "A", "policy": "base-v1"}]}))
    assert response.json()["policies_created"] == 0
    assert Completion.objects.get().policy == policy
    assert Policy.objects.count() == 1


def test_it_accepts_a_byte_order_mark_crlf_and_blank_lines(post_import):
    content = b"\xef\xbb\xbf" + b'{"prompt": "One"}\r\n\r\n   \r\n{"prompt": "Two"}\r\n'
    response = post_import("windows.jsonl", content)
    assert response.status_code == 201
    assert list(Prompt.objects.values_list("text", flat=True)) == ["One", "Two"]


@pytest.mark.parametrize("name", ["upper.JSONL", "stream.ndjson", "lines.json"])
def test_it_accepts_jsonl_file_names(post_import, name):
    response = post_import(name, jsonl({"prompt": "One"}))
    assert response.status_code == 201
    assert response.json()["format"] == "jsonl"


def test_it_keeps_unicode_text(post_import):
    response = post_import("u.jsonl", jsonl({"prompt": "Ünïcödé — 日本語 🙂", "completions": ["¡Sí!"]}))
    assert response.status_code == 201
    assert Prompt.objects.get().text == "Ünïcödé — 日本語 🙂"
    assert Completion.objects.get().text == "¡Sí!"
