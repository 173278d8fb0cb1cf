"""/api/campaigns/<slug>/runs/ and /reward-models/: leads, reviewers and engineers read;
leads and engineers start and cancel runs; labelers 403; non-members 404."""

import pytest

from labelhub.training.models import Run, RunMetric
from tests.api_errors import error_fields
from tests.training.conftest import READ, write_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/runs/"


@pytest.fixture
def run(make_run, snapshot):
    run = make_run(snapshot=snapshot, state=Run.State.RUNNING)
    RunMetric.objects.bulk_create(RunMetric(run=run, step=s, values={"loss": 1 / s}) for s in (1, 2, 3))
    return run


@pytest.mark.parametrize("role, status", READ)
def test_it_lists_runs_to_readers(client_as, run, role, status):
    response = client_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        assert [(r["id"], r["kind"], r["state"]) for r in response.json()["results"]] == [(run.pk, "reward", "running")]


@pytest.mark.parametrize("role, status", READ)
def test_it_shows_a_run_to_readers(client_as, run, role, status):
    response = client_as(role).get(f"{URL}{run.pk}/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["snapshot"] == run.snapshot_id


@pytest.mark.parametrize("role, status", READ)
def test_it_gives_the_metrics_time_series_to_readers(client_as, run, role, status):
    response = client_as(role).get(f"{URL}{run.pk}/metrics/")
    assert response.status_code == status
    if status == 200:
        rows = response.json()
        assert [(m["step"], m["values"]["loss"]) for m in rows] == [(1, 1.0), (2, 0.5), (3, 1 / 3)]
        later = client_as(role).get(f"{URL}{run.pk}/metrics/?after={rows[1]['id']}").json()
        assert [m["step"] for m in later] == [3]


@pytest.mark.parametrize("role, status", write_cases(201))
def test_it_lets_leads_and_engineers_start_a_run(client_as, campaign, snapshot, role, status):
    body = {"kind": "reward", "snapshot": snapshot.pk, "config": {"max_steps": 2}}
    response = client_as(role).post(URL, body, format="json")
    assert response.status_code == status
    assert Run.objects.exists() == (status == 201)
    if status == 201:
        assert response.json()["config"]["max_steps"] == 2
        assert response.json()["state"] == "queued"


@pytest.mark.parametrize("role, status", write_cases(200))
def test_it_lets_leads_and_engineers_cancel_a_run(client_as, run, role, status):
    response = client_as(role).post(f"{URL}{run.pk}/cancel/")
    assert response.status_code == status
    run.refresh_from_db()
    assert run.cancel_requested == (status == 200)


def test_it_answers_409_for_cancelling_a_finished_run(client_as, make_run):
    run = make_run(state=Run.State.SUCCEEDED)
    response = client_as("engineer").post(f"{URL}{run.pk}/cancel/")
    assert response.status_code == 409
    assert response.json()["detail"] == f"run {run.pk} has already succeeded"


def test_it_reports_what_is_wrong_by_field_and_starts_nothing(client_as, snapshot, policy, other_snapshot):
    client = client_as("engineer")
    response = client.post(URL, {"kind": "ppo", "policy": policy.pk, "config": {"out": "/tmp"}}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"reward_model", "prompts", "config.out"}
    response = client.post(URL, {"kind": "reward", "snapshot": other_snapshot.pk}, format="json")
    assert (response.status_code, response.json()["errors"]) == (
        400, [{"field": "snapshot", "message": f"No snapshot {other_snapshot.pk} in this campaign."}])
    assert client.post(URL, {"kind": "train-harder"}, format="json").status_code == 400
    assert not Run.objects.exists()


@pytest.fixture
def other_snapshot(outsider):
    from labelhub.campaigns.services import campaign_create
    from labelhub.feedback.models import Snapshot

    elsewhere = campaign_create(user=outsider, name="Other", slug="other")
    return Snapshot.objects.create(campaign=elsewhere, version=1, state="ready", path="/x", row_count=1)


@pytest.mark.parametrize("role, status", READ)
def test_it_lists_and_shows_reward_models_to_readers(client_as, reward_model, role, status):
    listing = client_as(role).get("/api/campaigns/helpful/reward-models/")
    detail = client_as(role).get(f"/api/campaigns/helpful/reward-models/{reward_model.pk}/")
    assert (listing.status_code, detail.status_code) == (status, status)
    if status == 200:
        assert [m["name"] for m in listing.json()["results"]] == ["rm-1"]
        assert detail.json()["held_out_accuracy"] == 0.8


def test_reward_models_are_read_only(client_as, reward_model):
    assert client_as("engineer").post("/api/campaigns/helpful/reward-models/", {"name": "x"}, format="json").status_code == 405


def test_the_run_list_costs_the_same_queries_for_one_run_or_many(client_as, make_run, snapshot, policy):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("engineer")

    def queries_for_listing():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    make_run(kind=Run.Kind.DPO, snapshot=snapshot, policy=policy)
    one = queries_for_listing()
    for _ in range(5):
        make_run(kind=Run.Kind.DPO, snapshot=snapshot, policy=policy)
    assert queries_for_listing() == one
