"""The webhooks pages: leads and ML engineers register a URL and its events (the secret shown
once), change, rotate or delete it and read its delivery log; labelers and reviewers get 403,
non-members 404, visitors the sign-in page."""

import re

import pytest

from labelhub.core import webhooks
from labelhub.webhooks import services
from labelhub.webhooks.models import Delivery, DeliveryAttempt, Webhook
from tests.webhooks.conftest import role_cases

pytestmark = pytest.mark.django_db

LIST = "/campaigns/helpful/webhooks/"
PAGE_CASES = role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 200, "outsider": 404,
                         "anonymous": 302})


@pytest.fixture
def hook(campaign, lead):
    return services.webhook_create(campaign=campaign, user=lead, url="https://example.org/hook",
                                   events=[webhooks.RUN_FINISHED])


@pytest.mark.parametrize("role, status", PAGE_CASES)
def test_it_shows_the_webhooks_page_to_leads_and_engineers(page_as, hook, role, status):
    listed = page_as(role).get(LIST)
    detail = page_as(role).get(f"{LIST}{hook.pk}/")
    assert listed.status_code == detail.status_code == status
    if status == 200:
        assert b"https://example.org/hook" in listed.content and b"run.finished" in listed.content
        assert hook.secret.encode() not in listed.content + detail.content
    if role == "anonymous":
        assert listed["Location"] == f"/login/?next={LIST}"


@pytest.mark.parametrize("role, status", PAGE_CASES)
def test_it_lets_leads_and_engineers_add_a_webhook_and_shows_its_secret_once(page_as, campaign, role, status):
    client = page_as(role)
    response = client.post(LIST, {"url": "https://example.org/new", "events": ["snapshot.written", "campaign.complete"],
                                  "active": "on", "description": "nightly"})
    # allowed: post/redirect/get, so a reload of the page neither posts again nor shows the secret again
    assert response.status_code == (302 if status == 200 else status)
    assert Webhook.objects.exists() == (status == 200)
    if status == 200:
        assert response["Location"] == LIST
        webhook = Webhook.objects.get()
        assert (webhook.events, webhook.active, webhook.description) == (
            ["snapshot.written", "campaign.complete"], True, "nightly")
        assert webhook.secret.encode() in client.get(LIST).content
        reloaded = client.get(LIST)
        assert reloaded.status_code == 200 and webhook.secret.encode() not in reloaded.content
        assert Webhook.objects.count() == 1


def test_it_shows_what_is_wrong_next_to_the_field_and_keeps_what_was_typed(page_as, campaign):
    response = page_as("lead").post(LIST, {"url": "file:///etc/passwd", "description": "mine"})
    assert response.status_code == 400
    html = response.content.decode()
    assert re.search(r'id="url-error">Only http:// and https:// URLs are allowed.<', html)
    assert re.search(r'id="events-error">Choose at least one event.<', html)
    assert 'value="file:///etc/passwd"' in html and 'value="mine"' in html
    assert not Webhook.objects.exists()


def test_it_shows_the_delivery_log_attempt_by_attempt(page_as, hook):
    delivery = Delivery.objects.create(webhook=hook, event="run.finished", body={}, attempts=2, state="failed")
    DeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=500, error="HTTP 500: <b>boom</b>",
                                   duration_ms=12)
    DeliveryAttempt.objects.create(delivery=delivery, number=2, status_code=None, error="URLError: timed out",
                                   duration_ms=10001)
    html = page_as("engineer").get(f"{LIST}{hook.pk}/").content.decode()
    rows = re.findall(rf'<tr data-delivery="{delivery.pk}" data-attempt="(\d)">(.*?)</tr>', html, re.S)
    assert [n for n, _ in rows] == ["1", "2"]
    assert "500" in rows[0][1] and "HTTP 500: &lt;b&gt;boom&lt;/b&gt;" in rows[0][1] and "12 ms" in rows[0][1]
    assert "URLError: timed out" in rows[1][1] and "10001 ms" in rows[1][1] and "Gave up" in rows[1][1]


def test_it_saves_changes_rotates_the_secret_and_deletes(page_as, hook):
    client = page_as("lead")
    saved = client.post(f"{LIST}{hook.pk}/", {"url": "http://10.0.0.5:8080/h", "events": ["labeler.paused"]})
    assert saved.status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.events, hook.active) == ("http://10.0.0.5:8080/h", ["labeler.paused"], False)
    old = hook.secret
    rotated = client.post(f"{LIST}{hook.pk}/rotate-secret/")
    assert rotated.status_code == 302 and rotated["Location"] == f"{LIST}{hook.pk}/"
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret.encode() in client.get(f"{LIST}{hook.pk}/").content
    assert hook.secret.encode() not in client.get(f"{LIST}{hook.pk}/").content  # once
    assert client.post(f"{LIST}{hook.pk}/delete/").status_code == 302
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("role", ["labeler", "reviewer"])
def test_it_refuses_changes_from_labelers_and_reviewers(page_as, hook, role):
    client = page_as(role)
    assert client.post(f"{LIST}{hook.pk}/", {"url": "http://evil.example/", "events": ["run.finished"]}).status_code == 403
    assert client.post(f"{LIST}{hook.pk}/rotate-secret/").status_code == 403
    assert client.post(f"{LIST}{hook.pk}/delete/").status_code == 403
    hook.refresh_from_db()
    assert hook.url == "https://example.org/hook"


@pytest.mark.parametrize("role, sees_link", [("lead", True), ("engineer", True), ("reviewer", False), ("labeler", False)])
def test_the_campaign_page_links_to_webhooks_for_those_who_manage_them(page_as, campaign, role, sees_link):
    assert (f'href="{LIST}"'.encode() in page_as(role).get("/campaigns/helpful/").content) == sees_link
