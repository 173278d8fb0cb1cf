"""In Chromium: a lead adds a webhook from the campaign page (a mistake shown next to its
field first), copies the secret shown once, and after an event the job worker delivers to a
real receiver on 127.0.0.1, signed with that secret; the delivery log shows the attempt. A
labeler is refused the page and not offered the link. No page breaks the CSP."""

import hashlib
import hmac
import json
import threading

import pytest

from labelhub.core import webhooks
from labelhub.ops.loop_simulation import run_jobs
from tests.webhooks.receiver import receiving

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "pw-for-tests-123"


def signed_in(browser, port, username, violations):
    page = browser.new_context(base_url=f"http://127.0.0.1:{port}").new_page()
    page.set_default_timeout(10_000)
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def deliver_in_a_worker():
    """The job worker, in a thread of its own (Playwright's loop runs in this one)."""
    worker = threading.Thread(target=run_jobs, kwargs={"queues": ("webhooks",)})
    worker.start()
    worker.join(60)


def test_a_lead_adds_a_webhook_and_sees_a_signed_delivery_in_its_log(browser, asgi_server, campaign, lead, labeler):
    from playwright.sync_api import expect

    violations = []
    with receiving() as receiver:
        page = signed_in(browser, asgi_server, "lead", violations)
        page.goto("/campaigns/helpful/")
        page.locator(".page-head").get_by_role("link", name="Webhooks").click()
        expect(page.locator("h1")).to_have_text("Webhooks")

        page.get_by_label("URL").fill("file:///etc/passwd")
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#url-error")).to_have_text("Only http:// and https:// URLs are allowed.")
        expect(page.locator("#events-error")).to_have_text("Choose at least one event.")

        page.get_by_label("URL").fill(receiver.url)
        page.locator('input[name="events"][value="snapshot.written"]').check()
        page.get_by_role("button", name="Add webhook").click()
        secret = page.locator("[data-secret]").inner_text()
        assert secret.startswith("whsec_")
        expect(page.locator("table.webhooks")).to_contain_text("snapshot.written")

        webhooks.emit(campaign, webhooks.SNAPSHOT_WRITTEN, {"snapshot": {"id": 1, "version": 1}})
        deliver_in_a_worker()
        [got] = receiver.received
        timestamp = got.headers["x-labelhub-timestamp"]
        mac = hmac.new(secret.encode(), timestamp.encode() + b"." + got.body, hashlib.sha256).hexdigest()
        assert got.headers["x-labelhub-signature"] == f"sha256={mac}"  # the secret the page showed
        assert json.loads(got.body)["event"] == "snapshot.written"

        page.goto("/campaigns/helpful/webhooks/")
        expect(page.locator("[data-secret]")).to_have_count(0)  # shown once only
        page.get_by_role("link", name="Deliveries and settings").click()
        row = page.locator("table.deliveries tr[data-attempt='1']")
        expect(row).to_contain_text("snapshot.written")
        expect(row).to_contain_text("Delivered")
        expect(row).to_contain_text("200")

        other = signed_in(browser, asgi_server, "labeler", violations)
        assert other.goto("/campaigns/helpful/webhooks/").status == 403
        other.goto("/campaigns/helpful/")
        expect(other.locator(".page-head").get_by_role("link", name="Webhooks")).to_have_count(0)
    assert violations == []
