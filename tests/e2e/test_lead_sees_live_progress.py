"""The lead's campaign page follows progress live: Chromium, a WebSocket to the ASGI server.

The labeler submits through the same server over HTTP, so the progress ping travels as in
production: view → channel layer → consumer → browser.
"""

import http.client
import json
import uuid

import pytest

from tests.labeling.conftest import add_prompts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def submit_one(port, token):
    """One next → submit cycle of a labeler, over HTTP through the server."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
    conn.request("POST", "/api/labeling/next/?campaign=helpful", body="{}", headers=headers)
    response = conn.getresponse()
    lease = json.loads(response.read())
    assert response.status == 200, lease
    body = {"idempotency_key": uuid.uuid4().hex, "ranking": [[c["id"]] for c in lease["completions"]]}
    conn.request("POST", f"/api/labeling/assignments/{lease['assignment']}/submit/", body=json.dumps(body), headers=headers)
    response = conn.getresponse()
    assert response.status == 201, response.read()
    conn.close()


def test_the_campaign_page_counts_judgments_as_they_come(log_in, settings, asgi_server, campaign, lead, labeler):
    from playwright.sync_api import expect

    from labelhub.accounts.services import token_get_or_create
    from labelhub.labeling import events, services

    settings.LABELHUB_PROGRESS_INTERVAL = 0.3  # throttled, as in production: the page must still end right
    events._last_ping.clear()
    add_prompts(campaign, 4)
    services.tasks_create(campaign=campaign)
    token = token_get_or_create(user=labeler).key

    page = log_in("lead", "pw-for-tests-123")
    page.goto("/campaigns/helpful/")
    progress = page.locator("#progress")
    expect(progress.locator("[data-field=status]")).to_have_text("live")
    expect(progress.locator("[data-field=tasks_total]")).to_have_text("4")
    expect(progress.locator("[data-field=judgments]")).to_have_text("0")

    submit_one(asgi_server, token)
    expect(progress.locator("[data-field=judgments]")).to_have_text("1")
    for _ in range(3):  # within one interval: one ping, then the consumer's second count
        submit_one(asgi_server, token)
    expect(progress.locator("[data-field=judgments]")).to_have_text("4")
    expect(progress.locator("[data-field=tasks_done]")).to_have_text("0")  # overlap 2
