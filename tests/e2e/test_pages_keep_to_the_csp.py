"""In Chromium, with the Content-Security-Policy header on: the API docs page (Swagger UI, its
start-up script a file of its own) draws the API, and neither it nor the campaign pages (runs,
a run with curves, snapshots, the leaderboard, review, disagreements) and the labeling page report a single CSP
violation."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


#: A lead's set-up pages (the gold-answer editor is drawn in test_lead_sets_up_a_campaign.py).
SETUP_PAGES = ["/campaigns/new/", "/campaigns/helpful/settings/", "/campaigns/helpful/guidelines/",
               "/campaigns/helpful/guidelines/edit/", "/campaigns/helpful/tasks/"]


def test_pages_draw_without_csp_violations(log_in, browser_page, campaign, lead):
    from playwright.sync_api import expect

    from labelhub.training.models import Run, RunMetric

    run = Run.objects.create(campaign=campaign, kind=Run.Kind.REWARD, state=Run.State.SUCCEEDED,
                             summary={"status": "succeeded", "eval_accuracy": 0.8})
    RunMetric.objects.bulk_create(RunMetric(run=run, step=s, values={"loss": 1 / s}) for s in (1, 2, 3))

    violations = []
    browser_page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page = log_in("lead", PASSWORD)
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("LabelHub API", timeout=20_000)
    expect(page.locator(".opblock").first).to_be_visible()
    for path in ["/campaigns/", "/campaigns/helpful/", "/campaigns/helpful/leaderboard/", "/campaigns/helpful/snapshots/",
                 "/campaigns/helpful/runs/", f"/campaigns/helpful/runs/{run.pk}/", "/label/work/",
                 "/campaigns/helpful/members/", "/invitations/", "/campaigns/helpful/skips/", "/plan/",
                 "/plan/?config.params=7e9", "/campaigns/helpful/webhooks/", "/campaigns/helpful/dashboard/",
                 "/campaigns/helpful/review/", "/campaigns/helpful/disagreements/", *SETUP_PAGES]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if path.endswith(f"/runs/{run.pk}/"):
            expect(page.locator('figure[data-chart="Loss"] canvas')).to_be_visible()
        if path.endswith("/dashboard/"):
            expect(page.locator("[data-field=status]")).to_have_text("live")
            expect(page.locator("[data-field=alpha]")).to_have_text("—")  # the quality figures drawn too
    assert violations == []
