"""The lead's live dashboard in Chromium: two labelers submit through the API of the same
ASGI server while the lead watches, and the progress, the judgments-per-hour chart, the
per-labeler table and the agreement change without a reload."""

import http.client
import json
import uuid

import pytest
from playwright.sync_api import expect

from labelhub.campaigns.models import Role
from labelhub.campaigns.services import membership_add
from labelhub.labeling import events, services
from tests.labeling.conftest import add_prompts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

#: A chart's first dataset summed (functions, not strings: the page's CSP forbids eval).
CHART_TOTAL = "name => Chart.getChart(document.querySelector(`[data-chart=${name}]`)).data.datasets[0].data.reduce((a, b) => a + b, 0)"


def submit(port, token, n):
    """``n`` next → submit cycles of a labeler, over HTTP through the server."""
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def post(path, body):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("POST", path, body=json.dumps(body), headers=headers)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    for _ in range(n):
        status, lease = post("/api/labeling/next/?campaign=helpful", {})
        assert status == 200, lease
        body = {"idempotency_key": uuid.uuid4().hex, "ranking": [[c["id"]] for c in lease["completions"]]}
        status, answer = post(f"/api/labeling/assignments/{lease['assignment']}/submit/", body)
        assert status == 201, answer


def test_the_dashboard_follows_two_labelers(settings, asgi_server, log_in, campaign, labeler, make_user):
    from labelhub.accounts.services import token_get_or_create

    settings.LABELHUB_PROGRESS_INTERVAL = 0.3  # throttled, as in production: the page must still end right
    settings.LABELHUB_DASHBOARD_INTERVAL = 0.3
    settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL = 0.5
    events._last_ping.clear()
    ann = make_user("ann")
    membership_add(campaign=campaign, user=ann, role=Role.LABELER)
    add_prompts(campaign, 4)
    services.tasks_create(campaign=campaign)
    tokens = {user.username: token_get_or_create(user=user).key for user in (labeler, ann)}

    page = log_in("lead", "pw-for-tests-123")
    page.goto("/campaigns/helpful/")
    page.locator(".page-head").get_by_role("link", name="Dashboard", exact=True).click()
    expect(page.locator("[data-field=status]")).to_have_text("live")
    expect(page.locator("[data-field=tasks_total]")).to_have_text("4")
    expect(page.locator("[data-field=judgments]")).to_have_text("0")
    rows = page.locator("#labeler-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("tr[data-labeler=ann] [data-col=judgments]")).to_have_text("0")
    expect(page.locator("[data-field=alpha]")).to_have_text("—")

    submit(asgi_server, tokens["labeler"], 3)
    expect(page.locator("[data-field=judgments]")).to_have_text("3")
    expect(page.locator("tr[data-labeler=labeler] [data-col=judgments]")).to_have_text("3")
    expect(page.locator("tr[data-labeler=labeler] [data-col=last_hour]")).to_have_text("3")
    expect(page.locator("[data-field=last_hour]")).to_have_text("3")
    page.wait_for_function(f"() => ({CHART_TOTAL})('per_hour') === 3")

    submit(asgi_server, tokens["ann"], 2)  # the same first tasks: two overlap now
    expect(page.locator("[data-field=judgments]")).to_have_text("5")
    expect(page.locator("[data-field=tasks_done]")).to_have_text("2")  # overlap 2
    expect(page.locator("tr[data-labeler=ann] [data-col=judgments]")).to_have_text("2")
    expect(page.locator("[data-field=overlap_tasks]")).to_have_text("2")
    expect(page.locator("[data-field=agreement]")).not_to_have_text("—")
    expect(page.locator("tr[data-labeler=ann] [data-col=agreement]")).not_to_have_text("—")
    expect(page.locator("tr[data-labeler=ann] [data-col=alarms]")).to_have_text("none")  # too few to tell
    page.wait_for_function(f"() => ({CHART_TOTAL})('per_hour') === 5 && ({CHART_TOTAL})('labelers') === 5")
    assert page.evaluate("Chart.getChart(document.querySelector('[data-chart=agreement]')).data.labels.length") == 1

    page.locator("[data-period]").select_option("hour")  # a new socket: the series per hour
    page.wait_for_function("() => Chart.getChart(document.querySelector('[data-chart=agreement]')).data.labels.join().endsWith('h')")
    assert page.url.endswith("?period=hour")
    expect(page.locator("[data-field=status]")).to_have_text("live")
    expect(page.locator("[data-field=judgments]")).to_have_text("5")
