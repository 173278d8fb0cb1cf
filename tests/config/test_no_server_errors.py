"""Each request that answered 500 in issue 14 now answers 4xx, as JSON in the one error shape
(docs/api.md), naming the field at fault: text PostgreSQL cannot store (NUL, a lone UTF-16
surrogate), integers no column can hold, digits that are not ASCII, bodies of the wrong shape."""

import gzip
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labelhub.labeling import services as labeling
from tests.labeling.conftest import add_prompts

pytestmark = pytest.mark.django_db

SURROGATE = "a\ud800b"
NUL = "a\x00b"


def send(client, method, path, body=None):
    """A raw JSON body: json.dumps escapes a lone surrogate as \\ud800, as a client would."""
    data = "" if body is None else json.dumps(body)
    return client.generic(method, path, data=data, content_type="application/json")


def assert_error(response, status, field=None):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert {"detail", "code", "errors"} <= set(body)
    assert isinstance(body["detail"], str) and body["detail"]
    if field is not None:
        assert field in [e["field"] for e in body["errors"]], body


@pytest.fixture
def as_lead(api_as, lead, campaign):
    return api_as(lead)


@pytest.fixture
def lease(campaign, labeler):
    add_prompts(campaign, 2)
    labeling.tasks_create(campaign=campaign)
    return labeling.next_task(labeler=labeler, campaign=campaign)


BODY_CASES = [
    ("POST", "/api/campaigns/helpful/members/", {"username": "labeler", "role": SURROGATE}, "role"),
    ("POST", "/api/campaigns/helpful/members/", {"username": NUL, "role": "labeler"}, "username"),
    ("PATCH", "/api/campaigns/helpful/", {"rating_axes": [{"name": SURROGATE}]}, "rating_axes"),
    ("PATCH", "/api/campaigns/helpful/", {"flag_vocabulary": [SURROGATE]}, "flag_vocabulary"),
    ("PATCH", "/api/campaigns/helpful/", {"guidelines": SURROGATE}, "guidelines"),
    ("POST", "/api/campaigns/helpful/policies/", {"name": "p", "generation_settings": {"stop": [SURROGATE]}},
     "generation_settings"),
    ("POST", "/api/campaigns/helpful/policies/", {"name": "p", "generation_settings": {SURROGATE: 1}},
     "generation_settings"),
    ("POST", "/api/campaigns/helpful/completions/", {"prompt": 1, "policy": 1, "text": "t", "metadata": {"a": SURROGATE}},
     "metadata"),
    ("POST", "/api/campaigns/helpful/runs/", {"kind": "reward", "config": {"lr": SURROGATE}}, "config"),
    ("POST", "/api/campaigns/helpful/runs/", {"kind": "generate", "prompt_split": SURROGATE}, "prompt_split"),
    ("POST", "/api/campaigns/helpful/snapshots/", {"filters": {"labelers": [SURROGATE]}}, "filters"),
    ("POST", "/api/campaigns/helpful/snapshots/", {"kind": SURROGATE}, "kind"),
    ("POST", "/api/campaigns/helpful/tasks/generate/", {"split": SURROGATE}, "split"),
    ("POST", "/api/campaigns/helpful/tasks/generate/", {"priority": 2**63}, "priority"),
    ("POST", "/api/campaigns/helpful/tasks/generate/", {"policies": [2**63]}, "policies.0"),
    ("POST", "/api/campaigns/helpful/loop-rounds/", [], None),
    ("POST", "/api/campaigns/helpful/loop-rounds/", {"policy": "abc"}, "policy"),
    ("POST", "/api/campaigns/helpful/loop-rounds/", {"policy": 2**63}, "policy"),
    ("POST", "/api/campaigns/helpful/leaderboard/promote/", {"policy": 1e30}, "policy"),
]


@pytest.mark.parametrize("method, path, body, field", BODY_CASES)
def test_it_refuses_bodies_that_cannot_be_stored_naming_the_field(as_lead, method, path, body, field):
    assert_error(send(as_lead, method, path, body), 400, field)


@pytest.mark.parametrize("value", [NUL, SURROGATE])
def test_it_refuses_a_gold_answer_that_cannot_be_stored(as_lead, lease, value):
    response = send(as_lead, "PATCH", f"/api/campaigns/helpful/tasks/{lease.task_id}/", {"gold_answer": {"best": value}})
    assert_error(response, 400, "gold_answer")


@pytest.mark.parametrize(
    "query, field",
    [("after=9223372036854775808", "after"), ("after=%C2%B2", "after"), ("after=-1", "after"),
     ("campaign=a%00b", "campaign")],
)
def test_it_range_checks_the_next_task_parameters(api_as, labeler, campaign, query, field):
    assert_error(api_as(labeler).post(f"/api/labeling/next/?{query}"), 400, field)


@pytest.mark.parametrize("query, field", [("search=a%00b", "search"), ("split=%00", "split"),
                                          ("prompt=99999999999999999999", "prompt")])
def test_it_refuses_list_filters_that_cannot_be_stored(as_lead, query, field):
    path = "/api/campaigns/helpful/completions/" if field == "prompt" else "/api/campaigns/helpful/prompts/"
    assert_error(as_lead.get(f"{path}?{query}"), 400, field)


def test_it_range_checks_the_metrics_cursor(as_lead, campaign):
    from labelhub.training.models import Run

    run = Run.objects.create(campaign=campaign, kind="reward")
    assert_error(as_lead.get(f"/api/campaigns/helpful/runs/{run.pk}/metrics/?after=%C2%B2"), 400, "after")
    assert_error(as_lead.get("/api/campaigns/helpful/runs/999999/metrics/?after=%C2%B2"), 404)


@pytest.mark.parametrize("part", ["ratings", "flags"])
def test_it_refuses_completion_keys_that_are_not_ascii_digits(api_as, labeler, lease, part):
    body = {"idempotency_key": "key-12345678", "ranking": [[c] for c in lease.display_order],
            part: {"²": {"helpfulness": 3} if part == "ratings" else ["unsafe"]}}
    response = send(api_as(labeler), "POST", f"/api/labeling/assignments/{lease.pk}/submit/", body)
    assert_error(response, 400, f"{part}.²")


@pytest.mark.parametrize("body", [{"reason": ["a"]}, {"reason": {"a": 1}}, {"reason": NUL}, ["a"], {}])
def test_it_refuses_a_skip_without_a_reason_in_words(api_as, labeler, lease, body):
    response = send(api_as(labeler), "POST", f"/api/labeling/assignments/{lease.pk}/skip/", body)
    assert_error(response, 400, None if isinstance(body, list) else "reason")


def test_it_takes_a_number_as_a_skip_reason(api_as, labeler, lease):
    response = send(api_as(labeler), "POST", f"/api/labeling/assignments/{lease.pk}/skip/", {"reason": 5})
    assert response.status_code == 200


def _upload(client, path, name, content):
    return client.post(path, {"file": SimpleUploadedFile(name, content)}, format="multipart")


@pytest.mark.parametrize(
    "path, name, content, field",
    [
        ("/api/campaigns/helpful/imports/", "p.jsonl", b'{"prompt": "a\\ud800b"}\n', "prompt"),
        ("/api/campaigns/helpful/imports/", "p.jsonl", b'{"prompt": "ok", "metadata": {"\\ud800": 1}}\n', "metadata"),
        ("/api/campaigns/helpful/pair-imports/", "p.jsonl", b'{"prompt": "a\\ud800", "chosen": "x", "rejected": "y"}\n',
         "prompt"),
        ("/api/campaigns/helpful/pair-imports/", "p.jsonl.gz", b"\x1f\x8b\x08\x00corrupt", "file"),
        ("/api/campaigns/helpful/pair-imports/", "p.jsonl.gz", gzip.compress(b'{"chosen": "x"}\n', mtime=0)[:-6], "file"),
        ("/api/campaigns/helpful/imports/", "p.jsonl", b"", "file"),
    ],
)
def test_it_rejects_imports_in_the_imports_shape(as_lead, path, name, content, field):
    response = _upload(as_lead, path, name, content)
    assert_error(response, 400, field)
    assert response.json()["detail"] == "Import rejected; nothing was written."
    assert all("line" in e for e in response.json()["errors"])


def test_it_limits_what_a_gzip_import_unpacks_to(as_lead, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 1000
    bomb = gzip.compress(b"\n" * 100_000)  # ~100 bytes packed
    response = _upload(as_lead, "/api/campaigns/helpful/pair-imports/", "p.jsonl.gz", bomb)
    assert_error(response, 400, "file")
    assert "unpacks to more than" in response.json()["errors"][0]["message"]


def test_it_describes_the_promote_action_to_options(as_lead):
    assert as_lead.options("/api/campaigns/helpful/leaderboard/promote/").status_code == 200


def test_a_new_policy_has_a_completion_count(as_lead):
    response = send(as_lead, "POST", "/api/campaigns/helpful/policies/", {"name": "fresh"})
    assert response.status_code == 201
    assert response.json()["completion_count"] == 0


def test_an_unknown_api_path_answers_json(as_lead):
    assert_error(as_lead.get("/api/no-such-thing/"), 404)


def test_it_refuses_nul_in_a_page_form(client, lead, campaign):
    client.force_login(lead)
    response = client.get("/campaigns/helpful/?q=a%00b")
    assert response.status_code == 400
    assert b"q:" in response.content


def test_it_answers_an_oversized_body_with_413(as_lead, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    assert_error(send(as_lead, "PATCH", "/api/campaigns/helpful/", {"description": "x" * 200}), 413)


def test_options_answers_on_every_api_path(as_lead, lease):
    """DRF describes a view's body to OPTIONS from its serializer; a view without one was a 500."""
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for template in paths:
        path = (template.replace("{campaign_slug}", "helpful").replace("{slug}", "helpful")
                .replace("{assignment_id}", str(lease.pk)).replace("{id}", "1"))
        response = as_lead.options(path)
        assert response.status_code < 500, (path, response.content[:300])
        assert response["Content-Type"].startswith("application/json"), path
