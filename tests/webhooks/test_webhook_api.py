"""/api/campaigns/<slug>/webhooks/: leads and ML engineers register, read, change, delete
webhooks, rotate the secret and read the delivery log; labelers and reviewers get 403,
non-members 404. The secret is shown once; only http(s) URLs and known events are taken."""

import pytest

from labelhub.core import webhooks
from labelhub.webhooks import services
from labelhub.webhooks.models import Delivery, DeliveryAttempt, Webhook
from tests.api_errors import error_fields, error_messages
from tests.webhooks.conftest import manage_cases

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/webhooks/"


@pytest.fixture
def hook(campaign, lead):
    return services.webhook_create(campaign=campaign, user=lead, url="https://example.org/hook",
                                   events=[webhooks.RUN_FINISHED], description="CI")


@pytest.mark.parametrize("role, status", manage_cases(201))
def test_it_lets_leads_and_engineers_register_a_webhook_and_shows_the_secret_once(client_as, campaign, role, status):
    body = {"url": "https://example.org/hook", "events": ["snapshot.written", "run.finished"]}
    response = client_as(role).post(URL, body, format="json")
    assert response.status_code == status
    assert Webhook.objects.exists() == (status == 201)
    if status == 201:
        data = response.json()
        webhook = Webhook.objects.get()
        assert data["secret"] == webhook.secret and webhook.secret.startswith("whsec_")
        assert data["events"] == ["run.finished", "snapshot.written"]  # in the events' own order
        assert data["active"] is True and data["created_by"] == role
        assert "secret" not in client_as(role).get(f"{URL}{webhook.pk}/").json()
        assert "secret" not in client_as(role).get(URL).json()["results"][0]


@pytest.mark.parametrize("role, status", manage_cases(200))
def test_it_lists_and_shows_webhooks_to_leads_and_engineers(client_as, hook, role, status):
    listed = client_as(role).get(URL)
    shown = client_as(role).get(f"{URL}{hook.pk}/")
    assert listed.status_code == shown.status_code == status
    if status == 200:
        assert [(w["id"], w["url"], w["events"]) for w in listed.json()["results"]] == [
            (hook.pk, "https://example.org/hook", ["run.finished"])]
        assert shown.json()["description"] == "CI"


@pytest.mark.parametrize("role, status", manage_cases(200))
def test_it_lets_leads_and_engineers_change_a_webhook(client_as, hook, role, status):
    response = client_as(role).patch(f"{URL}{hook.pk}/", {"active": False, "events": ["labeler.paused"]},
                                     format="json")
    assert response.status_code == status
    hook.refresh_from_db()
    assert (hook.active, hook.events) == ((False, ["labeler.paused"]) if status == 200 else (True, ["run.finished"]))


@pytest.mark.parametrize("role, status", manage_cases(204))
def test_it_lets_leads_and_engineers_delete_a_webhook(client_as, hook, role, status):
    assert client_as(role).delete(f"{URL}{hook.pk}/").status_code == status
    assert Webhook.objects.exists() == (status != 204)


@pytest.mark.parametrize("role, status", manage_cases(200))
def test_it_rotates_the_secret_and_shows_the_new_one_once(client_as, hook, role, status):
    old = hook.secret
    response = client_as(role).post(f"{URL}{hook.pk}/rotate-secret/")
    assert response.status_code == status
    hook.refresh_from_db()
    assert (hook.secret != old) == (status == 200)
    if status == 200:
        assert response.json()["secret"] == hook.secret


@pytest.mark.parametrize("role, status", manage_cases(200))
def test_it_gives_the_delivery_log_with_each_attempt(client_as, hook, role, status):
    delivery = Delivery.objects.create(webhook=hook, event="run.finished", body={"id": 1}, attempts=2,
                                       status_code=200, state=Delivery.State.SUCCEEDED)
    DeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=500, error="HTTP 500: boom", duration_ms=12)
    DeliveryAttempt.objects.create(delivery=delivery, number=2, status_code=200, duration_ms=8)
    response = client_as(role).get(f"{URL}{hook.pk}/deliveries/")
    assert response.status_code == status
    if status == 200:
        [row] = response.json()
        assert (row["id"], row["state"], row["attempts"]) == (delivery.pk, "succeeded", 2)
        assert [(a["number"], a["status_code"], a["error"], a["duration_ms"]) for a in row["attempt_log"]] == [
            (1, 500, "HTTP 500: boom", 12), (2, 200, "", 8)]


def test_it_reads_the_delivery_log_in_two_queries_after_the_webhook(client_as, hook, django_assert_max_num_queries):
    for i in range(5):
        delivery = Delivery.objects.create(webhook=hook, event="run.finished", body={"id": i})
        DeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=500, duration_ms=1)
    client = client_as("lead")
    with django_assert_max_num_queries(6):  # token, campaign, roles, webhook, deliveries, attempts
        assert len(client.get(f"{URL}{hook.pk}/deliveries/").json()) == 5


@pytest.mark.parametrize("url", ["ftp://example.org/x", "file:///etc/passwd", "javascript:alert(1)",
                                 "gopher://127.0.0.1:6379/_", "example.org/hook", "http:///nohost", " https://x.org",
                                 "https://example.org:99999/"])
def test_it_refuses_urls_that_are_not_http_or_https(client_as, campaign, url):
    response = client_as("lead").post(URL, {"url": url, "events": ["run.finished"]}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"url"}
    assert not Webhook.objects.exists()


def test_it_names_the_event_it_does_not_know_and_wants_one(client_as, campaign):
    unknown = client_as("lead").post(URL, {"url": "https://x.org", "events": ["run.exploded"]}, format="json")
    assert unknown.status_code == 400 and error_fields(unknown) == {"events"}
    assert "'run.exploded'" in error_messages(unknown, "events")[0]
    none = client_as("lead").post(URL, {"url": "https://x.org", "events": []}, format="json")
    assert none.status_code == 400 and error_messages(none, "events") == ["Choose at least one event."]
    missing = client_as("lead").post(URL, {}, format="json")
    assert missing.status_code == 400 and error_fields(missing) == {"url", "events"}
    assert not Webhook.objects.exists()


def test_a_bad_change_changes_nothing(client_as, hook):
    response = client_as("engineer").patch(f"{URL}{hook.pk}/", {"url": "file:///x", "active": False}, format="json")
    assert response.status_code == 400 and error_fields(response) == {"url"}
    hook.refresh_from_db()
    assert (hook.url, hook.active) == ("https://example.org/hook", True)


def test_it_does_not_show_another_campaigns_webhook(client_as, hook, outsider):
    from labelhub.campaigns.services import campaign_create

    campaign_create(user=outsider, name="Other", slug="other")
    assert client_as("outsider").get(f"/api/campaigns/other/webhooks/{hook.pk}/").status_code == 404
