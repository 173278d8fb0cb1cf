"""Each snapshot carries the agreement of the judgments it was made from, in its metadata."""

from pathlib import Path

import pytest

from labelhub.feedback import services
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def judged(campaign, three_labelers):
    add_tasks(campaign, 3)
    first, second, third = three_labelers
    judge_all(campaign, first, by_policy("good", "fair", "poor"))
    judge_all(campaign, second, by_policy("good", "fair", "poor"))
    judge_all(campaign, third, by_policy("poor", "fair", "good"))
    return three_labelers


def build(campaign, user, **options):
    snapshot = services.snapshot_create(campaign=campaign, user=user, **options)
    return services.snapshot_build(snapshot_id=snapshot.pk)


def test_it_writes_the_agreement_of_its_judgments_into_the_metadata(campaign, judged, lead, api_as):
    snapshot = build(campaign, lead)
    agreement = snapshot.metadata["agreement"]
    assert (agreement["judgments"], agreement["campaign"]["tasks"]) == (9, 3)
    assert agreement["campaign"]["agreement"] == pytest.approx(1 / 3, abs=1e-4)
    # the folder is the data (data.jsonl and the same rows for OpenRLHF and verl), the figures are in the database
    assert sorted(p.name for p in Path(snapshot.path).iterdir()) == ["data.jsonl", "openrlhf", "verl"]
    listed = api_as(lead).get("/api/campaigns/helpful/snapshots/").json()
    assert listed["results"][0]["metadata"] == snapshot.metadata


def test_its_filters_choose_the_judgments_measured(campaign, judged, lead):
    agreeing = [user.username for user in judged[:2]]
    snapshot = build(campaign, lead, filters={"labelers": agreeing})
    agreement = snapshot.metadata["agreement"]
    assert agreement["judgments"] == 6
    assert [e["labeler"] for e in agreement["labelers"]] == sorted(agreeing)
    assert (agreement["campaign"]["agreement"], agreement["campaign"]["tau_b"], agreement["campaign"]["alpha"]) == (1.0, 1.0, 1.0)
