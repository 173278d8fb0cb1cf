"""Every labeling endpoint, for every role, refusals included."""

import pytest

from labelhub.labeling import services
from tests.api_errors import error_messages
from tests.labeling.conftest import ranking_for

pytestmark = pytest.mark.django_db

ROLES = ["lead", "labeler", "reviewer", "engineer", "outsider"]


@pytest.mark.parametrize("role, expected", [
    ("lead", 204), ("labeler", 200), ("reviewer", 204), ("engineer", 204), ("outsider", 204), (None, 401),
])
def test_it_leases_next_tasks_to_labelers_only(users_by_role, api_as, tasks, role, expected):
    response = api_as(users_by_role.get(role)).post("/api/labeling/next/")
    assert response.status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 204), ("labeler", 200), ("reviewer", 204), ("engineer", 204), ("outsider", 404),
])
def test_it_scopes_next_to_a_campaign_the_user_belongs_to(users_by_role, api_as, tasks, role, expected):
    response = api_as(users_by_role[role]).post("/api/labeling/next/?campaign=helpful")
    assert response.status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 404), ("labeler", 201), ("reviewer", 404), ("engineer", 404), ("outsider", 404), (None, 401),
])
def test_it_takes_submissions_only_from_the_lease_holder(users_by_role, api_as, labeler, tasks, role, expected):
    assignment = services.next_task(labeler=labeler)
    body = {"idempotency_key": "key-00000001", "ranking": ranking_for(assignment)}
    response = api_as(users_by_role.get(role)).post(f"/api/labeling/assignments/{assignment.pk}/submit/", body, format="json")
    assert response.status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 404), ("labeler", 200), ("reviewer", 404), ("engineer", 404), ("outsider", 404), (None, 401),
])
def test_it_takes_skips_only_from_the_lease_holder(users_by_role, api_as, labeler, tasks, role, expected):
    assignment = services.next_task(labeler=labeler)
    response = api_as(users_by_role.get(role)).post(f"/api/labeling/assignments/{assignment.pk}/skip/", {"reason": "unclear"}, format="json")
    assert response.status_code == expected


def test_it_reports_validation_errors_by_field(labeler, api_as, tasks):
    assignment = services.next_task(labeler=labeler)
    response = api_as(labeler).post(f"/api/labeling/assignments/{assignment.pk}/submit/",
                                    {"idempotency_key": "key-00000001", "ranking": [[assignment.display_order[0]]]}, format="json")
    assert response.status_code == 400
    assert "not ranked" in error_messages(response, "ranking")[0]


def test_it_answers_409_on_a_second_judgment_without_corrects(labeler, api_as, tasks):
    assignment = services.next_task(labeler=labeler)
    url = f"/api/labeling/assignments/{assignment.pk}/submit/"
    client = api_as(labeler)
    assert client.post(url, {"idempotency_key": "key-00000001", "ranking": ranking_for(assignment)}, format="json").status_code == 201
    assert client.post(url, {"idempotency_key": "key-00000001", "ranking": ranking_for(assignment)}, format="json").status_code == 200
    assert client.post(url, {"idempotency_key": "key-00000002", "ranking": ranking_for(assignment)}, format="json").status_code == 409


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("labeler", 403), ("reviewer", 200), ("engineer", 200), ("outsider", 404),
])
def test_it_lists_tasks_to_content_readers(users_by_role, api_as, tasks, role, expected):
    assert api_as(users_by_role[role]).get("/api/campaigns/helpful/tasks/").status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 201), ("labeler", 403), ("reviewer", 403), ("engineer", 403), ("outsider", 404),
])
def test_it_lets_only_leads_generate_tasks(users_by_role, api_as, tasks, role, expected):
    assert api_as(users_by_role[role]).post("/api/campaigns/helpful/tasks/generate/", {}, format="json").status_code == expected


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("labeler", 403), ("reviewer", 403), ("engineer", 403), ("outsider", 404),
])
def test_it_lets_only_leads_set_priority_and_gold(users_by_role, api_as, tasks, role, expected):
    ranked = [[tc.completion_id] for tc in tasks[0].task_completions.all()]
    response = api_as(users_by_role[role]).patch(f"/api/campaigns/helpful/tasks/{tasks[0].pk}/",
                                                 {"priority": 7, "is_gold": True, "gold_answer": {"ranking": ranked}}, format="json")
    assert response.status_code == expected
    tasks[0].refresh_from_db()
    assert (tasks[0].priority == 7) == (expected == 200)
    assert tasks[0].is_gold == (expected == 200)


@pytest.mark.parametrize("role, expected", [
    ("lead", 200), ("labeler", 200), ("reviewer", 200), ("engineer", 200), ("outsider", 404),
])
def test_it_shows_progress_to_members(users_by_role, api_as, tasks, role, expected):
    response = api_as(users_by_role[role]).get("/api/campaigns/helpful/tasks/progress/")
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["tasks_total"] == len(tasks)


def test_it_shows_a_labeler_only_their_own_judgments(campaign, users_by_role, make_user, api_as, tasks):
    from labelhub.campaigns.models import Role
    from labelhub.campaigns.services import membership_add

    labeler, other = users_by_role["labeler"], make_user("other")
    membership_add(campaign=campaign, user=other, role=Role.LABELER)
    for i, user in enumerate([labeler, other]):
        a = services.next_task(labeler=user)
        services.judgment_submit(labeler=user, assignment_id=a.pk, data={"idempotency_key": f"key-0000000{i}", "ranking": ranking_for(a)})
    mine = api_as(labeler).get("/api/campaigns/helpful/judgments/").json()["results"]
    assert [j["labeler"] for j in mine] == ["labeler"]
    assert len(api_as(users_by_role["lead"]).get("/api/campaigns/helpful/judgments/").json()["results"]) == 2
    assert api_as(users_by_role["outsider"]).get("/api/campaigns/helpful/judgments/").status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_it_lists_home_campaigns_only_where_the_user_labels(users_by_role, api_as, tasks, role):
    rows = api_as(users_by_role[role]).get("/api/labeling/home/").json()
    assert [r["slug"] for r in rows] == (["helpful"] if role == "labeler" else [])
    if role == "labeler":
        assert rows[0]["tasks_left"] == len(tasks)


def test_it_counts_the_task_on_screen_as_left(labeler, api_as, tasks):
    services.next_task(labeler=labeler)
    rows = api_as(labeler).get("/api/labeling/home/").json()
    assert rows[0]["tasks_left"] == len(tasks)


@pytest.mark.parametrize("role, expected", [("lead", 302), ("engineer", 403), ("labeler", 403), ("outsider", 404)])
def test_it_lets_leads_make_tasks_from_the_campaign_page(client, users_by_role, campaign, role, expected):
    from tests.labeling.conftest import add_prompts

    add_prompts(campaign, 4)
    client.force_login(users_by_role[role])
    response = client.post("/campaigns/helpful/tasks/make/", {"split": "train", "priority": "3"})
    assert response.status_code == expected
    assert campaign.tasks.count() == (4 if expected == 302 else 0)
    if expected == 302:
        assert set(campaign.tasks.values_list("priority", flat=True)) == {3}
