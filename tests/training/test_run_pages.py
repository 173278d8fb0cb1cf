"""The runs page (list + "start a run" forms) and the Run page, for every role."""

import json
from pathlib import Path

import pytest

from labelhub.training.models import Run, RunMetric

pytestmark = pytest.mark.django_db

LIST = "/campaigns/helpful/runs/"
PAGE_READ = [("lead", 200), ("labeler", 403), ("reviewer", 200), ("engineer", 200), ("outsider", 404)]


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        if role in users_by_role:
            client.force_login(users_by_role[role])
        return client

    return make


@pytest.mark.parametrize("role, status", PAGE_READ)
def test_it_shows_the_runs_page_to_readers(page_as, make_run, role, status):
    run = make_run()
    response = page_as(role).get(LIST)
    assert response.status_code == status
    if status == 200:
        assert f'href="/campaigns/helpful/runs/{run.pk}/"' in response.content.decode()
        assert ("Start a run" in response.content.decode()) == (role in ("lead", "engineer"))


def test_it_sends_anonymous_visitors_to_sign_in(client):
    assert client.get(LIST).status_code == 302


def test_the_start_forms_hold_each_kinds_defaults(page_as, snapshot):
    html = page_as("engineer").get(LIST).content.decode()
    assert html.count('name="kind"') == len(Run.Kind.values)
    assert 'name="config.model" value="tiny-rm"' in html  # the reward form's default model
    assert f'<option value="{snapshot.pk}">v1' in html


def test_an_engineer_starts_a_run_from_the_page(page_as, snapshot):
    response = page_as("engineer").post(f"{LIST}start/", {
        "kind": "reward", "snapshot": snapshot.pk, "config": json.dumps({"max_steps": 2, "model": "tiny-rm"}),
    })
    run = Run.objects.get()
    assert response.status_code == 302 and response.url == f"/campaigns/helpful/runs/{run.pk}/"
    assert (run.kind, run.snapshot, run.config["max_steps"]) == ("reward", snapshot, 2)


@pytest.mark.parametrize("role, status", [("reviewer", 403), ("labeler", 403), ("outsider", 404)])
def test_others_cannot_start_runs(page_as, snapshot, role, status):
    response = page_as(role).post(f"{LIST}start/", {"kind": "reward", "snapshot": snapshot.pk, "config": "{}"})
    assert response.status_code == status
    assert not Run.objects.exists()


@pytest.mark.parametrize("post, field, message", [
    ({"kind": "reward", "config": "{not json"}, "config", "Enter a valid JSON."),
    ({"kind": "reward", "config": "{}"}, "snapshot", "a reward run needs a snapshot"),
])
def test_a_bad_start_form_says_what_is_wrong_and_starts_nothing(page_as, campaign, post, field, message):
    response = page_as("engineer").post(f"{LIST}start/", post)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'<span class="field-error" id="run-reward-{field}-error">{message}</span>' in html
    assert f"<code>{field}</code></a>: {message}" in html  # and in the summary at the top of the form
    assert not Run.objects.exists()


@pytest.mark.parametrize("role, status", PAGE_READ)
def test_it_shows_the_run_page_to_readers(page_as, make_run, snapshot, role, status):
    run = make_run(snapshot=snapshot, state=Run.State.SUCCEEDED, config={"max_steps": 2})
    response = page_as(role).get(f"{LIST}{run.pk}/")
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert f'data-run-ws="/ws/runs/{run.pk}/"' in html and "app/run.js" in html
        assert "snapshot v1" in html and "&quot;max_steps&quot;: 2" in html


def test_the_run_page_escapes_trainer_output_and_lists_artifacts(page_as, make_run):
    run = make_run(state=Run.State.FAILED, error="<img src=x onerror=alert(1)>",
                   error_tail="Traceback\n<script>alert('tail')</script>\n")
    Path(run.run_dir, "adapter").mkdir(parents=True)
    Path(run.run_dir, "adapter", "adapter_model.safetensors").write_bytes(b"x" * 2048)
    RunMetric.objects.create(run=run, step=1, values={"<b>loss</b>": 1})
    html = page_as("lead").get(f"{LIST}{run.pk}/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#x27;tail&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "adapter/adapter_model.safetensors" in html and "2.0\xa0KB" in html


def test_leads_and_engineers_cancel_from_the_run_page(page_as, make_run):
    run = make_run(state=Run.State.RUNNING)
    assert f"/campaigns/helpful/runs/{run.pk}/cancel/" in page_as("engineer").get(f"{LIST}{run.pk}/").content.decode()
    response = page_as("engineer").post(f"{LIST}{run.pk}/cancel/")
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.cancel_requested


def test_reviewers_get_no_cancel_button_and_cannot_cancel(page_as, make_run):
    run = make_run(state=Run.State.RUNNING)
    assert "/cancel/" not in page_as("reviewer").get(f"{LIST}{run.pk}/").content.decode()
    assert page_as("reviewer").post(f"{LIST}{run.pk}/cancel/").status_code == 403
    run.refresh_from_db()
    assert not run.cancel_requested


@pytest.mark.parametrize("role, linked", [("lead", True), ("engineer", True), ("reviewer", True), ("labeler", False)])
def test_the_campaign_page_links_to_runs(page_as, campaign, role, linked):
    assert (f'href="{LIST}"' in page_as(role).get("/campaigns/helpful/").content.decode()) == linked
