"""Each text a user brings in holds at most LABELHUB_TEXT_MAX_BYTES of UTF-8 (100 kB by default;
metadata and other JSON measured as compact JSON): a longer one is an error naming the line and
field at import — which stays all-or-nothing — and the field at API create (issue 14 point 2:
a 2 MB prompt was accepted)."""

import json
import os

import pytest

from labelhub.campaigns.models import Completion, Policy
from labelhub.config import settings as config_settings
from labelhub.labeling.models import Judgment
from tests.api_errors import error_fields
from tests.campaigns.conftest import written

pytestmark = pytest.mark.django_db

LIMIT = 1000
IMPORT = "/api/campaigns/helpful/imports/"
PAIRS = "/api/campaigns/helpful/pair-imports/"


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.LABELHUB_TEXT_MAX_BYTES = LIMIT


@pytest.mark.skipif("LABELHUB_TEXT_MAX_BYTES" in os.environ, reason="the limit is set in the environment")
def test_it_defaults_to_100_kilobytes():
    assert config_settings.LABELHUB_TEXT_MAX_BYTES == 100_000  # what settings.py read (the fixture overrides it)


def jsonl(*rows) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()


@pytest.mark.parametrize(("row", "field"), [
    ({"prompt": "x" * (LIMIT + 1)}, "prompt"),
    ({"prompt": "é" * (LIMIT // 2 + 1)}, "prompt"),  # 1,002 bytes in 501 characters
    ({"messages": [{"role": "user", "content": "y" * (LIMIT + 1)}]}, "messages[0].content"),
    ({"prompt": "ok", "metadata": {"note": "z" * LIMIT}}, "metadata"),
    ({"prompt": "ok", "completions": [{"text": "w" * (LIMIT + 1)}]}, "completions[0].text"),
    ({"prompt": "ok", "completions": [{"text": "fine", "metadata": {"n": "v" * LIMIT}}]}, "completions[0].metadata"),
])
def test_an_import_with_an_overlong_field_names_the_line_and_field_and_writes_nothing(
        client_as, campaign, upload, row, field):
    data = jsonl({"prompt": "a fine first prompt"}, row)
    response = client_as("lead").post(IMPORT, {"file": upload("p.jsonl", data)}, format="multipart")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["line"], error["field"]) == (2, field)
    assert error["message"].endswith(f"at most {LIMIT:,} are accepted (LABELHUB_TEXT_MAX_BYTES)")
    assert written(campaign) == dict.fromkeys(["prompts", "policies", "completions", "imports"], 0)


def test_a_csv_row_is_held_to_the_same_limit(client_as, campaign, upload):
    data = f"prompt,completion\nfine,also fine\nok,{'c' * (LIMIT + 1)}\n"
    response = client_as("lead").post(IMPORT, {"file": upload("p.csv", data)}, format="multipart")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(3, "completions[0].text")]
    assert written(campaign)["prompts"] == 0


def test_text_at_the_limit_is_imported(client_as, campaign, upload):
    data = jsonl({"prompt": "é" * (LIMIT // 2)})  # exactly LIMIT bytes
    response = client_as("lead").post(IMPORT, {"file": upload("p.jsonl", data)}, format="multipart")
    assert response.status_code == 201, response.json()
    assert campaign.prompts.get().text == "é" * (LIMIT // 2)


@pytest.mark.parametrize("field", ["prompt", "chosen", "rejected"])
def test_a_pair_import_names_the_overlong_side(client_as, campaign, upload, field):
    pair = {"prompt": "Q?", "chosen": " yes", "rejected": " no"} | {field: "p" * (LIMIT + 1)}
    data = jsonl({"prompt": "Q1?", "chosen": " a", "rejected": " b"}, pair)
    response = client_as("lead").post(PAIRS, {"file": upload("pairs.jsonl", data)}, format="multipart")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [(2, field)]
    assert not Judgment.objects.exists() and written(campaign)["prompts"] == 0


@pytest.mark.parametrize(("field", "value"), [
    ("text", "t" * (LIMIT + 1)),
    ("metadata", {"note": "m" * LIMIT}),
    ("generation_settings", {"stop": ["s" * LIMIT]}),
])
def test_the_completion_api_names_the_overlong_field(client_as, prompt, policy, field, value):
    body = {"prompt": prompt.id, "policy": policy.id, "text": "fine", field: value}
    response = client_as("engineer").post("/api/campaigns/helpful/completions/", body, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {field}
    assert "LABELHUB_TEXT_MAX_BYTES" in response.json()["errors"][0]["message"]
    assert not Completion.objects.exists()


def test_the_policy_and_campaign_apis_bound_their_free_text(client_as, campaign):
    response = client_as("engineer").post("/api/campaigns/helpful/policies/",
                                          {"name": "p", "prompt_template": "{prompt}" + "x" * LIMIT}, format="json")
    assert (response.status_code, error_fields(response)) == (400, {"prompt_template"})
    assert not Policy.objects.exists()
    response = client_as("lead").patch("/api/campaigns/helpful/", {"guidelines": "g" * (LIMIT + 1)}, format="json")
    assert (response.status_code, error_fields(response)) == (400, {"guidelines"})
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 1
