"""Importing CSV: a header row, one completion per row; rows repeating a prompt add
completions to it; JSON columns for chat turns and metadata."""

import pytest

from labelhub.campaigns.models import Completion, Prompt

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/imports/"


@pytest.fixture
def post_import(client_as, campaign, upload):
    def post(content, name="batch.csv"):
        return client_as("lead").post(URL, {"file": upload(name, content)}, format="multipart")

    return post


def test_it_merges_rows_that_repeat_a_prompt(post_import):
    response = post_import(
        "prompt,split,completion,policy\n"
        "Explain recursion,held_out,It calls itself.,base-v1\n"
        "Explain recursion,held_out,Loops upside down.,sft-v1\n"
        "Name a prime,,Seven.,\n"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["format"], body["prompts_created"], body["completions_created"], body["policies_created"]) == (
        "csv", 2, 3, 3,
    )
    recursion = Prompt.objects.get(text="Explain recursion")
    assert recursion.split == "held_out"
    assert sorted(recursion.completions.values_list("policy__name", "text")) == [
        ("base-v1", "It calls itself."), ("sft-v1", "Loops upside down."),
    ]
    prime = Prompt.objects.get(text="Name a prime")
    assert (prime.split, list(prime.completions.values_list("policy__name", flat=True))) == ("train", ["imported"])


def test_it_reads_json_columns(post_import):
    response = post_import(
        "messages,metadata,completion,completion_metadata\n"
        '"[{""role"": ""user"", ""content"": ""Hi!""}]","{""topic"": ""greeting""}",Hello.,"{""seed"": 3}"\n'
    )
    assert response.status_code == 201
    prompt = Prompt.objects.get()
    assert (prompt.messages, prompt.metadata) == ([{"role": "user", "content": "Hi!"}], {"topic": "greeting"})
    assert Completion.objects.get().metadata == {"seed": 3}


def test_it_imports_prompts_without_completions(post_import):
    response = post_import("prompt\nOne\nTwo\n")
    assert response.status_code == 201
    assert list(Prompt.objects.values_list("text", flat=True)) == ["One", "Two"]
    assert not Completion.objects.exists()


def test_it_keeps_quoted_commas_and_line_breaks(post_import):
    response = post_import('prompt,completion\n"Say ""hi"", twice","Hi,\nhi."\n')
    assert response.status_code == 201
    assert Prompt.objects.get().text == 'Say "hi", twice'
    assert Completion.objects.get().text == "Hi,\nhi."


def test_it_accepts_a_spreadsheet_export(post_import):
    response = post_import(b"\xef\xbb\xbfprompt,completion\r\nOne,Uno\r\n,\r\nTwo,Dos\r\n", name="Export.CSV")
    assert response.status_code == 201
    assert sorted(Completion.objects.values_list("prompt__text", "text")) == [("One", "Uno"), ("Two", "Dos")]
