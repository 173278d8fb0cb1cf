import pytest

from labelhub.feedback.models import Snapshot
from tests.api_errors import error_fields

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.LABELHUB_DATA_DIR = tmp_path


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_lists_snapshots_to_content_readers(users_by_role, api_as, campaign, role, expected):
    assert api_as(users_by_role.get(role)).get("/api/campaigns/helpful/snapshots/").status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 201), ("engineer", 201), ("reviewer", 403), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_lets_leads_and_engineers_make_snapshots(users_by_role, api_as, campaign, role, expected, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/snapshots/", {"aggregation": "majority"}, format="json")
    assert response.status_code == expected
    assert Snapshot.objects.count() == (1 if expected == 201 else 0)
    if expected == 201:
        from procrastinate.contrib.django.models import ProcrastinateJob

        job = ProcrastinateJob.objects.get()
        assert job.task_name == "labelhub.feedback.tasks.build_snapshot"
        assert job.args == {"snapshot_id": response.json()["id"]}


def test_it_names_bad_snapshot_options(users_by_role, api_as, campaign):
    response = api_as(users_by_role["lead"]).post("/api/campaigns/helpful/snapshots/",
                                                  {"aggregation": "majority", "filters": {"since": "soon"}}, format="json")
    assert response.status_code == 400
    assert "filters.since" in error_fields(response)


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_shows_the_leaderboard_to_content_readers(users_by_role, api_as, campaign, role, expected):
    assert api_as(users_by_role.get(role)).get("/api/campaigns/helpful/leaderboard/").status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 409), ("engineer", 409), ("reviewer", 403), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_lets_leads_and_engineers_ask_for_promotion(users_by_role, api_as, campaign, role, expected):
    from labelhub.campaigns.models import Policy

    policy = Policy.objects.create(campaign=campaign, name="v2")
    response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/leaderboard/promote/", {"policy": policy.pk}, format="json")
    assert response.status_code == expected  # 409: no comparisons yet, so the gate refuses


@pytest.mark.parametrize("role, expected", [
    ("lead", 201), ("engineer", 403), ("reviewer", 403), ("labeler", 403), ("outsider", 404), (None, 401)])
def test_it_lets_only_leads_import_pairs(users_by_role, api_as, campaign, role, expected):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = b'{"prompt": "Say hi", "chosen": " Hi!", "rejected": " Go away."}\n'
    response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/pair-imports/",
                                                    {"file": SimpleUploadedFile("pairs.jsonl", data)}, format="multipart")
    assert response.status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("engineer", 200), ("reviewer", 200), ("labeler", 403), ("outsider", 404)])
def test_it_serves_the_pages_to_content_readers(client, users_by_role, campaign, role, expected):
    client.force_login(users_by_role[role])
    assert client.get("/campaigns/helpful/leaderboard/").status_code == expected
    assert client.get("/campaigns/helpful/snapshots/").status_code == expected
