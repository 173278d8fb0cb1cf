"""In Chromium, the snapshots page shows a snapshot that is being written as Building, and then
as Ready with its download link, by itself: no reload (the page polls its table while a row
is pending, and stops once none is)."""


import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_building_snapshot_turns_ready_without_a_reload(log_in, settings, tmp_path, asgi_server, campaign, lead):
    from playwright.sync_api import expect

    from labelhub.feedback import services

    settings.LABELHUB_DATA_DIR = tmp_path
    snapshot = services.snapshot_create(campaign=campaign, user=lead)

    page = log_in("lead", "pw-for-tests-123")
    page.goto("/campaigns/helpful/snapshots/")
    row = page.locator("#snapshot-v1")
    expect(row.locator("[data-field=state]")).to_have_text("Building")
    expect(row.get_by_role("link", name="Download")).to_have_count(0)
    page.evaluate("window.notReloaded = true")

    services.snapshot_build(snapshot_id=snapshot.pk)  # what the export job does

    expect(row.locator("[data-field=state]")).to_have_text("Ready")
    expect(row.get_by_role("link", name="Download")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    requests = []
    page.on("request", lambda request: requests.append(request.url) if "part=" in request.url else None)
    page.wait_for_timeout(2500)  # longer than the page's 2 s turn: it asks no more
    assert requests == []
