"""The Run page shows the guards of a finished PPO/DPO/RLOO run — policy against base, each
check ok or failed — and a flagged run carries a warning with its reasons."""

import pytest

from labelhub.training.models import Run
from tests.guard_samples import fine_guards, flagged_guards

pytestmark = pytest.mark.django_db

PAGE_READ = [("lead", 200), ("labeler", 403), ("reviewer", 200), ("engineer", 200), ("outsider", 404)]


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        client.force_login(users_by_role[role])
        return client

    return make


def finished(make_run, policy, guards, kind=Run.Kind.PPO):
    return make_run(kind=kind, policy=policy, state=Run.State.SUCCEEDED,
                    summary={"status": "succeeded", "method": kind, "guards": guards})


@pytest.mark.parametrize("role, status", PAGE_READ)
def test_it_warns_with_the_reasons_on_a_flagged_runs_page(page_as, make_run, policy, role, status):
    run = finished(make_run, policy, flagged_guards())
    response = page_as(role).get(f"/campaigns/helpful/runs/{run.pk}/")
    assert response.status_code == status
    if status != 200:
        assert "Flagged by its guards" not in response.content.decode()
        return
    html = response.content.decode()
    warning = html[html.index('data-field="guard-warning"'):html.index('data-field="guard-reasons"')]
    assert "hidden" not in warning and "Flagged by its guards" in warning
    for reason in run.flag_reasons:
        assert f"<li>{reason.replace(chr(39), '&#x27;')}</li>" in html
    assert '<span class="badge guard-flagged">failed</span>\n    <strong>length</strong>: answers collapsed to 1.0 words' in html
    assert "<th>Words per answer</th><td>1.0</td><td>16.0</td>" in html
    assert "<td>14.00</td><td>target 4.0</td>" in html


def test_it_shows_a_fine_runs_guards_without_a_warning(page_as, make_run, policy):
    run = finished(make_run, policy, fine_guards(), kind=Run.Kind.DPO)
    html = page_as("engineer").get(f"/campaigns/helpful/runs/{run.pk}/").content.decode()
    assert '<div class="message warning" role="alert" data-field="guard-warning" hidden>' in html
    section = html[html.index('data-field="guards"'):html.index('data-field="summary"')]
    assert section.count('<span class="badge guard-ok">ok</span>') == 4 and "guard-flagged" not in section
    assert "<th>Words per answer</th><td>14.0</td><td>16.0</td>" in html
    assert "(limit 4.000)" in html  # the KL check's limit: the run's target


def test_a_run_without_guards_has_no_guard_section(page_as, make_run, snapshot):
    run = make_run(kind=Run.Kind.REWARD, snapshot=snapshot, state=Run.State.SUCCEEDED,
                   summary={"status": "succeeded", "eval_accuracy": 0.8})
    html = page_as("lead").get(f"/campaigns/helpful/runs/{run.pk}/").content.decode()
    assert '<section class="card" data-field="guards" hidden>' in html
    assert '<div class="message warning" role="alert" data-field="guard-warning" hidden>' in html
    assert "guard-figures" not in html


def test_the_runs_list_marks_a_flagged_run(page_as, make_run, policy):
    flagged = finished(make_run, policy, flagged_guards())
    fine = finished(make_run, policy, fine_guards())
    html = page_as("reviewer").get("/campaigns/helpful/runs/").content.decode()
    rows = {run.pk: html[html.index(f'runs/{run.pk}/"'):][:600].split("</tr>")[0] for run in (flagged, fine)}
    assert '<span class="badge guard-flagged" title="answers collapsed to 1.0 words' in rows[flagged.pk]
    assert "guard-flagged" not in rows[fine.pk]
