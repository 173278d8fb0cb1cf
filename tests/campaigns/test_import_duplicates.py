"""Duplicates are skipped and counted: prompts by content hash within the campaign,
completions by prompt, policy and text."""

import json

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.models import Completion, Prompt

pytestmark = pytest.mark.django_db


def jsonl(*objects) -> bytes:
    return "".join(json.dumps(o) + "\n" for o in objects).encode()


@pytest.fixture
def run_import(campaign, lead):
    def run(data, target=None):
        result = services.prompts_import(campaign=target or campaign, user=lead, filename="b.jsonl", data=data)
        return result.as_dict()

    return run


def counts(result):
    keys = ["prompts_created", "prompts_skipped", "completions_created", "completions_skipped"]
    return [result[k] for k in keys]


def test_it_skips_a_prompt_repeated_in_the_file(run_import):
    result = run_import(jsonl({"prompt": "Q"}, {"prompt": "Q"}, {"prompt": "R"}))
    assert counts(result) == [2, 1, 0, 0]
    assert Prompt.objects.count() == 2


def test_it_skips_a_prompt_the_campaign_already_has_and_adds_its_new_completions(run_import, completion):
    result = run_import(jsonl({"prompt": "Explain recursion", "completions": [{"text": "New.", "policy": "base-v1"}]}))
    assert counts(result) == [0, 1, 1, 0]
    assert Prompt.objects.count() == 1
    assert set(completion.prompt.completions.values_list("text", flat=True)) == {completion.text, "New."}


def test_it_skips_a_completion_already_recorded(run_import, completion):
    result = run_import(jsonl({"prompt": "Explain recursion", "completions": [{"text": completion.text, "policy": "base-v1"}]}))
    assert counts(result) == [0, 1, 0, 1]
    assert Completion.objects.count() == 1


def test_it_skips_a_completion_repeated_in_the_file(run_import):
    result = run_import(jsonl({"prompt": "Q", "completions": ["A", "A", {"text": "A", "policy": "other"}]}))
    assert counts(result) == [1, 0, 2, 1]


def test_it_skips_everything_when_a_file_is_imported_twice(run_import):
    data = jsonl({"prompt": "Q", "completions": ["A", "B"]}, {"messages": [{"role": "user", "content": "Hi"}]})
    assert counts(run_import(data)) == [2, 0, 2, 0]
    assert counts(run_import(data)) == [0, 2, 0, 2]
    assert (Prompt.objects.count(), Completion.objects.count()) == (2, 2)


def test_it_treats_chat_turns_with_keys_in_another_order_as_the_same_prompt(run_import):
    run_import(b'{"messages": [{"role": "user", "content": "Hi"}]}\n')
    result = run_import(b'{"messages": [{"content": "Hi", "role": "user"}]}\n')
    assert counts(result) == [0, 1, 0, 0]


def test_it_counts_the_same_prompt_in_another_campaign_as_new(run_import, campaign, other_campaign):
    run_import(jsonl({"prompt": "Q"}))
    result = run_import(jsonl({"prompt": "Q"}), target=other_campaign)
    assert counts(result) == [1, 0, 0, 0]
    assert Prompt.objects.filter(text="Q").count() == 2


def test_it_merges_csv_rows_of_a_prompt_the_campaign_already_has(campaign, lead, completion):
    data = b"prompt,completion,policy\nExplain recursion,Other.,base-v1\nExplain recursion,Other.,base-v1\n"
    result = services.prompts_import(campaign=campaign, user=lead, filename="b.csv", data=data).as_dict()
    assert counts(result) == [0, 1, 1, 1]
