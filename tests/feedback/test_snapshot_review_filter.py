"""A snapshot can leave out the judgments a review rejected (``filters.exclude_rejected``);
the current review counts (a later acceptance brings a judgment back), and the snapshot's
metadata records the filters it used and how many judgments the review filter left out."""

import json

import pytest

from labelhub.feedback import services
from labelhub.labeling.models import Judgment
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path


def judgment_ids(snapshot) -> set[int]:
    with open(snapshot.jsonl_path, encoding="utf-8") as fh:
        return {i for line in fh for i in json.loads(line)["judgment_ids"]}


def build(campaign, lead, **filters):
    snapshot = services.snapshot_create(campaign=campaign, user=lead, filters=filters)
    return services.snapshot_build(snapshot_id=snapshot.pk)


def test_rejected_judgments_are_left_out_only_when_asked(campaign, three_labelers, lead, reviewer):
    add_tasks(campaign, 2)
    for user in three_labelers:
        judge_all(campaign, user, by_policy("good", "fair", "poor"))
    everything = set(Judgment.objects.values_list("pk", flat=True))
    rejected, accepted, later_accepted = sorted(everything)[:3]
    services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=rejected, verdict="reject", note="careless")
    services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=accepted, verdict="accept")
    services.review_record(campaign=campaign, reviewer=reviewer, judgment_id=later_accepted, verdict="reject", note="hm")
    services.review_record(campaign=campaign, reviewer=lead, judgment_id=later_accepted, verdict="accept")

    plain = build(campaign, lead)
    assert judgment_ids(plain) == everything
    assert plain.metadata["filters"]["applied"] == {} and "rejected_left_out" not in plain.metadata["filters"]

    filtered = build(campaign, lead, exclude_rejected=True)
    assert judgment_ids(filtered) == everything - {rejected}
    assert filtered.judgment_count == len(everything) - 1
    assert filtered.metadata["filters"]["applied"] == {"exclude_rejected": True}
    assert filtered.metadata["filters"]["rejected_left_out"] == 1
    assert filtered.metadata["agreement"]["judgments"] == len(everything) - 1  # the figures of what it holds


def test_the_filter_is_checked_and_named(campaign, lead, api_as):
    response = api_as(lead).post("/api/campaigns/helpful/snapshots/", {"filters": {"exclude_rejected": "yes"}}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "filters.exclude_rejected", "message": "must be true or false"}]


def test_the_snapshots_page_offers_the_filter_and_shows_the_filters_used(client, campaign, lead):
    from labelhub.feedback.models import Snapshot

    client.force_login(lead)
    assert 'name="exclude_rejected"' in client.get("/campaigns/helpful/snapshots/").content.decode()
    response = client.post("/campaigns/helpful/snapshots/", {"kind": "preference", "aggregation": "all",
                                                             "exclude_rejected": "on", "labelers": "ann, bob"})
    assert response.status_code == 302
    assert Snapshot.objects.get().filters == {"exclude_rejected": True, "labelers": ["ann", "bob"]}
    html = client.get("/campaigns/helpful/snapshots/").content.decode()
    assert "<code>labelers=ann, bob</code>" in html and "<code>exclude_rejected</code>" in html
