"""In Chromium, the Run page overlays another run's curves on its own charts (same chart per
metric, dashed), read from the metrics API, and takes them off again."""

import pytest

from labelhub.training.models import Run, RunMetric

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def test_two_runs_curves_share_one_chart(log_in, campaign, engineer):
    from playwright.sync_api import expect

    runs = [Run.objects.create(campaign=campaign, kind=Run.Kind.DPO, state=Run.State.SUCCEEDED, created_by=engineer)
            for _ in range(2)]
    for n, run in enumerate(runs):
        RunMetric.objects.bulk_create(
            RunMetric(run=run, step=s, values={"loss": (n + 1) / s, "rewards/margins": s * 0.1, "timing/step_s": 0.2})
            for s in (1, 2, 3))
    page = log_in("engineer", PASSWORD)
    page.goto(f"/campaigns/helpful/runs/{runs[1].pk}/")
    loss = 'figure[data-chart="Loss"] canvas'
    expect(page.locator(loss)).to_be_visible()
    labels = f"() => Chart.getChart(document.querySelector('{loss}')).data.datasets.map((d) => d.label)"
    assert page.evaluate(labels) == ["loss"]
    reward = "() => Chart.getChart(document.querySelector('figure[data-chart=\"Reward\"] canvas')).data.datasets.map((d) => d.label)"
    assert page.evaluate(reward) == ["rewards/margins"]  # no timing on the reward chart

    page.locator("[data-compare]").select_option(str(runs[0].pk))
    page.wait_for_function(f"() => Chart.getChart(document.querySelector('{loss}')).data.datasets.length === 2")
    assert page.evaluate(labels) == ["loss", f"#{runs[0].pk} loss"]
    dashed = page.evaluate(f"() => Chart.getChart(document.querySelector('{loss}')).data.datasets[1].borderDash")
    assert dashed == [5, 4]

    page.locator("[data-compare]").select_option("")
    page.wait_for_function(f"() => Chart.getChart(document.querySelector('{loss}')).data.datasets.length === 1")
