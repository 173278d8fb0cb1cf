"""A campaign's own lease time: set on the set-up and settings pages (and the API) within a
minute to a day, empty for the server's LABELHUB_LEASE_SECONDS; the queue leases its tasks
for that long."""

import pytest

from labelhub.campaigns.models import Campaign
from labelhub.campaigns.services import campaign_update
from labelhub.labeling import services

pytestmark = pytest.mark.django_db


def lease_length(labeler) -> float:
    lease = services.next_task(labeler=labeler)
    return (lease.expires_at - lease.leased_at).total_seconds()


def test_the_queue_leases_for_the_campaigns_own_time(campaign, labeler, tasks, settings):
    settings.LABELHUB_LEASE_SECONDS = 600
    campaign_update(campaign=campaign, lease_seconds=120)
    assert lease_length(labeler) == 120


def test_a_campaign_without_its_own_time_uses_the_servers(campaign, labeler, tasks, settings):
    settings.LABELHUB_LEASE_SECONDS = 300
    assert campaign.lease_seconds is None
    assert lease_length(labeler) == 300


def test_a_lead_sets_and_clears_the_lease_time_on_the_settings_page(client, lead, campaign):
    client.force_login(lead)
    form = {"name": campaign.name, "task_kind": "rank", "completions_per_task": "3", "overlap": "2",
            "status": "active", "loop_priority": "10", "lease_seconds": "900"}
    assert client.post("/campaigns/helpful/settings/", form).status_code == 302
    campaign.refresh_from_db()
    assert campaign.lease_seconds == 900
    assert 'name="lease_seconds" value="900"' in client.get("/campaigns/helpful/settings/").content.decode()
    assert client.post("/campaigns/helpful/settings/", {**form, "lease_seconds": ""}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.lease_seconds is None


def test_the_api_takes_and_checks_the_lease_time(api_as, lead, campaign):
    client = api_as(lead)
    assert client.patch("/api/campaigns/helpful/", {"lease_seconds": 3600}, format="json").json()["lease_seconds"] == 3600
    too_short = client.patch("/api/campaigns/helpful/", {"lease_seconds": 30}, format="json")
    assert too_short.status_code == 400
    assert [e["field"] for e in too_short.json()["errors"]] == ["lease_seconds"]
    assert Campaign.objects.get(pk=campaign.pk).lease_seconds == 3600
