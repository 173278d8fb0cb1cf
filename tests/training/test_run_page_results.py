"""The Run page as a training dashboard: how far a running run is, curves only for kinds that
draw them, the summary as a table, what the run produced (linked), and controls that match
its state. ``?part=results`` is the region the page asks for again when the run ends."""

from pathlib import Path

import pytest

from labelhub.campaigns.models import Completion, Policy, content_hash
from labelhub.training.models import LoopRound, RewardModel, Run, RunMetric
from tests.training.conftest import READ

pytestmark = pytest.mark.django_db

RUNS = "/campaigns/helpful/runs/"


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        if role in users_by_role:
            client.force_login(users_by_role[role])
        return client

    return make


def test_a_running_run_shows_the_step_of_the_total_and_the_time_left(page_as, make_run):
    run = make_run(state=Run.State.RUNNING, progress={"phase": "train", "unit": "step", "done": 12, "total": 30,
                                                      "elapsed_s": 12.0, "eta_s": 18.4})
    html = page_as("reviewer").get(f"{RUNS}{run.pk}/").content.decode()
    assert '<span data-field="progress-text">step 12 of 30 · about 18 s left</span>' in html
    assert 'value="0.4000"' in html


@pytest.mark.parametrize("progress, state, text", [
    ({}, Run.State.QUEUED, "waiting for a worker"),
    ({}, Run.State.RUNNING, "starting (loading models and data)"),
    ({"unit": "completion", "done": 16, "total": 64, "eta_s": 200}, Run.State.RUNNING,
     "16 of 64 completions · about 3 min 20 s left"),
    ({"unit": "step", "done": 30, "total": 30, "eta_s": 0}, Run.State.RUNNING, "step 30 of 30"),
    ({"unit": "step", "done": 30, "total": 30, "eta_s": 0}, Run.State.SUCCEEDED, ""),
])
def test_the_progress_in_words(make_run, progress, state, text):
    assert make_run(state=state, progress=progress).progress_text == text


def test_a_finished_run_hides_its_progress_its_live_badge_and_its_cancel_button(page_as, make_run):
    run = make_run(state=Run.State.SUCCEEDED, progress={"unit": "step", "done": 3, "total": 3})
    html = page_as("engineer").get(f"{RUNS}{run.pk}/").content.decode()
    assert '<section class="card run-progress" data-field="progress" hidden>' in html
    assert '<span class="badge" data-field="live" hidden>' in html
    assert "Cancel run" not in html


def test_a_run_whose_cancel_was_requested_offers_no_second_cancel(page_as, make_run):
    run = make_run(state=Run.State.RUNNING, cancel_requested=True)
    html = page_as("engineer").get(f"{RUNS}{run.pk}/").content.decode()
    assert "Cancel run" not in html and "cancel requested: stopping…" in html


@pytest.mark.parametrize("kind, state, metrics, curves", [
    (Run.Kind.REWARD, Run.State.RUNNING, False, True),  # it will draw some
    (Run.Kind.REWARD, Run.State.SUCCEEDED, True, True),
    (Run.Kind.REWARD, Run.State.FAILED, False, False),  # ended before its first step
    (Run.Kind.GENERATE, Run.State.RUNNING, False, False),  # never draws curves
    (Run.Kind.EVALUATE, Run.State.SUCCEEDED, True, False),  # one line of figures: the summary has them
])
def test_curves_are_shown_only_for_a_run_that_draws_some(page_as, make_run, kind, state, metrics, curves):
    run = make_run(kind=kind, state=state)
    if metrics:
        RunMetric.objects.create(run=run, step=1, values={"loss": 0.5})
    html = page_as("engineer").get(f"{RUNS}{run.pk}/").content.decode()
    assert ("<h2>Curves</h2>" in html) == curves


def test_curves_can_be_overlaid_with_another_run_of_the_same_kind(page_as, make_run):
    run, other, no_metrics = make_run(), make_run(state=Run.State.SUCCEEDED), make_run()
    dpo = make_run(kind=Run.Kind.DPO)
    for r in (run, other, dpo):
        RunMetric.objects.create(run=r, step=1, values={"loss": 0.5})
    html = page_as("engineer").get(f"{RUNS}{run.pk}/").content.decode()
    select = html[html.index("<select data-compare>"):html.index("</select>", html.index("<select data-compare>"))]
    assert f'<option value="{other.pk}">#{other.pk} · succeeded</option>' in select
    assert f'value="{no_metrics.pk}"' not in select and f'value="{dpo.pk}"' not in select and f'value="{run.pk}"' not in select
    assert 'data-metrics-url="/api/campaigns/helpful/runs/"' in html


def test_the_summary_is_a_table_with_nested_fields_and_rounded_numbers(page_as, make_run):
    run = make_run(state=Run.State.SUCCEEDED, summary={
        "status": "succeeded", "eval_accuracy": 0.7512345, "train_pairs": 40, "settings": {"temperature": 0.7},
        "reasons": ["a", "b"], "note": "<b>raw</b>", "guards": {"flagged": False},
    })
    html = page_as("reviewer").get(f"{RUNS}{run.pk}/").content.decode()
    table = html[html.index('<table class="list summary">'):]
    table = table[:table.index("</table>")]
    assert "<tr><th>eval_accuracy</th><td>0.7512</td></tr>" in table
    assert "<tr><th>train_pairs</th><td>40</td></tr>" in table
    assert "<tr><th>settings.temperature</th><td>0.7</td></tr>" in table
    assert "<tr><th>reasons</th><td>a, b</td></tr>" in table
    assert "<tr><th>note</th><td>&lt;b&gt;raw&lt;/b&gt;</td></tr>" in table
    assert "status" not in table and "guards" not in table


@pytest.mark.parametrize("role, status", READ)
def test_the_results_part_is_for_the_pages_readers(page_as, make_run, role, status):
    run = make_run(state=Run.State.SUCCEEDED, summary={"status": "succeeded", "steps": 3})
    response = page_as(role).get(f"{RUNS}{run.pk}/?part=results")
    assert response.status_code == (302 if status == 401 else status)
    if status == 200:
        html = response.content.decode()
        assert "<html" not in html and "<tr><th>steps</th><td>3</td></tr>" in html
        assert response["Cache-Control"] == "no-store"


def test_a_policy_run_links_its_new_version_and_offers_send_until_it_is_sent(page_as, make_run, policy):
    new = Policy.objects.create(campaign=policy.campaign, name="base-dpo-r1", base_model="tiny", parent=policy)
    run = make_run(kind=Run.Kind.DPO, policy=policy, state=Run.State.SUCCEEDED, produced_policy=new)
    html = page_as("engineer").get(f"{RUNS}{run.pk}/?part=results").content.decode()
    assert f'href="/campaigns/helpful/#policy-{new.pk}"><strong>base-dpo-r1</strong></a>' in html
    assert "Not sent to labeling yet." in html and "Send to labeling</button>" in html
    assert "Send to labeling</button>" not in page_as("reviewer").get(f"{RUNS}{run.pk}/?part=results").content.decode()

    sent = LoopRound.objects.create(campaign=policy.campaign, policy=new)  # as the loop's step does after the run
    html = page_as("engineer").get(f"{RUNS}{run.pk}/?part=results").content.decode()
    assert "Send to labeling</button>" not in html
    assert '<li data-pending>Sent to labeling' in html  # generating: the page keeps asking

    LoopRound.objects.filter(pk=sent.pk).update(state=LoopRound.State.LABELING, tasks_created=4)
    html = page_as("engineer").get(f"{RUNS}{run.pk}/?part=results").content.decode()
    assert "data-pending" not in html and "4 comparison tasks" in html and "Send to labeling</button>" not in html


def test_a_generate_run_links_the_completions_it_wrote(page_as, make_run, policy, prompts):
    run = make_run(kind=Run.Kind.GENERATE, policy=policy, state=Run.State.SUCCEEDED, prompt_split="held_out",
                   summary={"status": "succeeded", "completions": 2})
    for prompt in prompts[2:]:
        Completion.objects.create(prompt=prompt, policy=policy, text=f"answer {prompt.pk}",
                                  content_hash=content_hash(f"answer {prompt.pk}"))
    html = page_as("lead").get(f"{RUNS}{run.pk}/").content.decode()
    assert '<a href="/campaigns/helpful/?split=held_out">2 completions by base</a>' in html
    assert "the policy has 2 stored there" in html


def test_a_reward_run_with_a_below_chance_model_is_flagged_not_a_plain_success(page_as, make_run, snapshot):
    run = make_run(state=Run.State.SUCCEEDED, snapshot=snapshot, summary={"status": "succeeded", "eval_accuracy": 0.27})
    rm = RewardModel.objects.create(campaign=snapshot.campaign, name=f"reward-r{run.pk}", base_model="tiny-rm",
                                    adapter_path="/x/adapter", snapshot=snapshot, run=run, held_out_accuracy=0.27,
                                    held_out_pairs=120)
    Run.objects.filter(pk=run.pk).update(produced_reward_model=rm)
    html = page_as("engineer").get(f"{RUNS}{run.pk}/").content.decode()
    warning = html[html.index('data-field="reward-model-warning"'):]
    warning = warning[:warning.index("</div>")]
    assert f"{rm.name} is flagged:" in warning
    assert "held-out accuracy 0.27 is below chance (0.50)" in warning
    assert '<span class="badge guard-flagged">flagged</span>' in html and "above chance" not in html
    assert f'href="/campaigns/helpful/runs/#reward-model-{rm.pk}"' in html

    listing = page_as("engineer").get(RUNS).content.decode()
    assert f'<tr id="reward-model-{rm.pk}" class="flagged">' in listing


def test_the_runs_list_follows_runs_that_are_not_over(page_as, make_run):
    queued, done = make_run(), make_run(state=Run.State.SUCCEEDED)
    html = page_as("reviewer").get(RUNS).content.decode()
    assert 'data-follow="?part=runs" data-follow-every="3" data-follow-while="[data-pending]"' in html
    part = page_as("reviewer").get(f"{RUNS}?part=runs").content.decode()
    assert f'<tr data-run="{queued.pk}" data-pending>' in part and f'<tr data-run="{done.pk}">' in part
    assert "<html" not in part
    assert page_as("labeler").get(f"{RUNS}?part=runs").status_code == 403


def test_the_log_says_when_the_trainer_wrote_nothing(page_as, make_run):
    run = make_run(state=Run.State.SUCCEEDED)
    assert "The trainer wrote nothing." in page_as("lead").get(f"{RUNS}{run.pk}/").content.decode()
    Path(run.run_dir).mkdir(parents=True, exist_ok=True)
    Run.objects.filter(pk=run.pk).update(error_tail="step 1/3 loss=0.5\n")
    html = page_as("lead").get(f"{RUNS}{run.pk}/").content.decode()
    assert "step 1/3 loss=0.5" in html and '<p class="empty" data-field="no-log" hidden>' in html

