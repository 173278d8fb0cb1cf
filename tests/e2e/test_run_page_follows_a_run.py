"""In Chromium, the Run page follows a reward run from running to its end without a reload:
step x of N with the time left, the trainer's log lines, a loss chart with whole-number steps
(no timing on it), then — when the run ends — the state, no Cancel button and no "live"
badge, the summary as a table and the reward model it produced, flagged because its
held-out accuracy is below chance.

The run is a real job (``runner.run_job``) in the server's event loop with a stand-in trainer
script that the test lets finish; its events reach the page as in production (job → channel
layer → consumer → browser).
"""

import sys
import textwrap

import pytest

from labelhub.training.models import Run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TRAINER = """
import json, os, pathlib, sys, time
out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

def progress(done):
    (out / ".p").write_text(json.dumps({"phase": "train", "unit": "step", "done": done, "total": 4,
                                        "elapsed_s": done * 3.0, "eta_s": (4 - done) * 3.0}))
    os.replace(out / ".p", out / "progress.json")

metrics = open(out / "metrics.jsonl", "w")
def log(step, loss):
    metrics.write(json.dumps({"step": step, "loss": loss, "timing/step_s": 0.5, "elapsed_s": step}) + "\\n")
    metrics.flush()
    print(f"step {step}/4 loss={loss}", flush=True)

for step in (1, 2):
    progress(step)
    log(step, 1.0 / step)
deadline = time.monotonic() + 60  # a test that failed before letting it go: no process left behind
while not (out / "go-on").exists() and time.monotonic() < deadline:  # the test lets it finish
    time.sleep(0.1)
for step in (3, 4):
    progress(step)
    log(step, 1.0 / step)
(out / "adapter").mkdir(exist_ok=True)
(out / "adapter" / "adapter_config.json").write_text("{}")
(out / "model.json").write_text(json.dumps({"base": "tiny-rm", "adapter": "adapter"}))
(out / "summary.json").write_text(json.dumps({"status": "succeeded", "eval_accuracy": 0.27, "eval_pairs": 120,
                                              "train_pairs": 480, "steps": 4}))
"""


def test_the_run_page_follows_a_run_to_its_end_without_a_reload(log_in, settings, tmp_path, on_server, asgi_server,
                                                                 campaign, engineer):
    from playwright.sync_api import expect

    from labelhub.training import runner

    settings.LABELHUB_DATA_DIR = tmp_path
    run = Run.objects.create(campaign=campaign, kind=Run.Kind.REWARD, created_by=engineer,
                             config={"max_steps": 4}, run_dir=str(tmp_path / "runs" / "1"))
    script = tmp_path / "trainer.py"
    script.write_text(textwrap.dedent(TRAINER), encoding="utf-8")
    job = on_server(runner.run_job(run_id=run.pk, command=[sys.executable, str(script), run.run_dir]))

    page = log_in("engineer", "pw-for-tests-123")
    page.set_default_timeout(15_000)
    page.goto(f"/campaigns/helpful/runs/{run.pk}/")

    # Running: where it is, what it says, what it draws.
    expect(page.locator("[data-field=live]")).to_have_text("live")
    expect(page.locator("[data-field=state]")).to_have_text("running")
    expect(page.locator("[data-field=progress-text]")).to_have_text("step 2 of 4 · about 6 s left")
    expect(page.locator("[data-field=error_tail]")).to_contain_text("step 2/4 loss=0.5")
    loss = page.locator('figure[data-chart="Loss"]')
    expect(loss).to_be_visible()
    expect(page.locator('[data-charts] figure[data-chart="Time (s)"]')).to_have_count(0)  # not a main chart
    expect(page.get_by_role("button", name="Cancel run")).to_be_visible()
    expect(page.locator("[data-field=summary]")).to_have_count(0)  # written when the run ends
    expect(page.locator("[data-field=flagged]")).to_be_hidden()
    ticks = page.evaluate("""() => {
        const chart = Chart.getChart(document.querySelector('figure[data-chart="Loss"] canvas'));
        return {ticks: chart.scales.x.ticks.map((t) => t.value), labels: chart.data.datasets.map((d) => d.label)};
    }""")
    assert ticks["ticks"] and all(float(t).is_integer() for t in ticks["ticks"]), ticks
    assert ticks["labels"] == ["loss"]

    # The end, with no reload.
    (tmp_path / "runs" / "1" / "go-on").write_text("")
    expect(page.locator("[data-field=state]")).to_have_text("succeeded")
    expect(page.locator("[data-field=flagged]")).to_be_visible()  # not a plain green success
    warning = page.locator("[data-field=reward-model-warning]")
    expect(warning).to_contain_text(f"reward-r{run.pk} is flagged:")
    expect(warning).to_contain_text("held-out accuracy 0.27 is below chance (0.50)")
    expect(page.locator("[data-field=produced]")).to_contain_text(f"Reward model reward-r{run.pk}")
    summary = page.locator("table.summary")
    expect(summary.locator("tr", has_text="eval_accuracy")).to_have_text("eval_accuracy0.27")
    expect(summary.locator("tr", has_text="train_pairs")).to_have_text("train_pairs480")
    expect(page.locator("[data-field=artifacts]")).to_contain_text("adapter/adapter_config.json")
    expect(page.get_by_role("button", name="Cancel run")).to_be_hidden()
    expect(page.locator("[data-field=live]")).to_be_hidden()
    expect(page.locator("[data-field=progress]")).to_be_hidden()
    expect(page.locator("[data-field=error_tail]")).to_contain_text("step 4/4 loss=0.25")
    assert job.result(timeout=30) == "succeeded"
