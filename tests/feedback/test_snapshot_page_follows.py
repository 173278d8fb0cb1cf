"""The snapshots page follows a snapshot that is building: its table is a part of the page
(?part=snapshots) that follow.js asks for again while a row is pending, behind the page's own
permission check."""

import pytest

from labelhub.feedback.models import Snapshot

pytestmark = pytest.mark.django_db

PART = "/campaigns/helpful/snapshots/?part=snapshots"


@pytest.fixture
def as_role(client, users_by_role):
    def login(role):
        if role is not None:
            client.force_login(users_by_role[role])
        return client

    return login


@pytest.fixture
def building(campaign, lead):
    return Snapshot.objects.create(campaign=campaign, version=1, created_by=lead, path="/tmp/nowhere")


def test_the_page_marks_its_table_to_follow_while_a_snapshot_builds(as_role, building):
    html = as_role("lead").get("/campaigns/helpful/snapshots/").content.decode()
    assert 'data-follow="?part=snapshots" data-follow-every="2" data-follow-while="[data-pending]"' in html
    assert "app/follow.js" in html
    assert '<tr id="snapshot-v1" data-pending>' in html


@pytest.mark.parametrize("role, status", [("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403),
                                          ("outsider", 404), (None, 302)])
def test_the_part_is_the_table_alone_for_those_who_may_read_it(as_role, building, role, status):
    response = as_role(role).get(PART)
    assert response.status_code == status
    if status == 200:
        html = response.content.decode()
        assert "<html" not in html and "<table" in html
        assert response["Cache-Control"] == "no-store"
        assert 'data-pending' in html and ">Building<" in html


def test_a_ready_snapshot_stops_the_following_and_offers_its_download(as_role, building):
    Snapshot.objects.filter(pk=building.pk).update(state=Snapshot.State.READY, row_count=3)
    html = as_role("reviewer").get(PART).content.decode()
    assert "data-pending" not in html and ">Ready<" in html
    assert f'href="/api/campaigns/helpful/snapshots/{building.pk}/download/" data-download="jsonl">Download</a>' in html


def test_a_part_the_page_does_not_have_is_not_found(as_role, building):
    assert as_role("lead").get("/campaigns/helpful/snapshots/?part=nothing").status_code == 404
