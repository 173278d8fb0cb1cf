"""Editing a campaign's guidelines bumps their version (judgments record which version they
saw); other edits, and clients, cannot change it."""

import pytest

from labelhub.campaigns import services

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/"


def test_it_bumps_the_version_when_guidelines_change(client_as, campaign):
    response = client_as("lead").patch(URL, {"guidelines": "Rank the **safest** answer first."}, format="json")
    assert response.status_code == 200
    assert response.json()["guidelines_version"] == 2
    campaign.refresh_from_db()
    assert (campaign.guidelines, campaign.guidelines_version) == ("Rank the **safest** answer first.", 2)


def test_it_bumps_the_version_on_each_change(campaign):
    services.campaign_update(campaign=campaign, guidelines="v2")
    services.campaign_update(campaign=campaign, guidelines="v3")
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 3


def test_it_keeps_the_version_when_guidelines_are_resent_unchanged(client_as, campaign):
    response = client_as("lead").patch(URL, {"guidelines": campaign.guidelines}, format="json")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 1


def test_it_keeps_the_version_when_other_fields_change(client_as, campaign):
    client_as("lead").patch(URL, {"name": "Renamed", "overlap": 3}, format="json")
    campaign.refresh_from_db()
    assert (campaign.name, campaign.overlap, campaign.guidelines_version) == ("Renamed", 3, 1)


def test_it_ignores_a_version_sent_by_the_client(client_as, campaign):
    response = client_as("lead").patch(URL, {"guidelines_version": 9}, format="json")
    assert response.status_code == 200
    campaign.refresh_from_db()
    assert campaign.guidelines_version == 1
