"""Leads set a task's expected answer (checked as a labeler's answer is) one task at a time or
from a JSONL file: all or nothing, each bad line named."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.campaigns.conftest import ANON, role_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(users_by_role, api_as):
    return lambda role: api_as(users_by_role.get(role))


@pytest.fixture
def page_as(users_by_role, client):
    def make(role):
        if (user := users_by_role.get(role)) is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def other_campaign(outsider):
    from labelhub.campaigns import services

    return services.campaign_create(user=outsider, name="Someone else's", slug="elsewhere", completions_per_task=3)


def url(task):
    return f"/api/campaigns/helpful/tasks/{task.pk}/"


def ids(task):
    return [tc.completion_id for tc in task.task_completions.all()]


def gold_file(*rows) -> SimpleUploadedFile:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    return SimpleUploadedFile("gold.jsonl", "\n".join(lines).encode(), content_type="application/x-ndjson")


def test_it_sets_a_gold_answer_checked_as_a_labelers_answer(client_as, tasks):
    task = tasks[0]
    a, b, c = ids(task)
    body = {"is_gold": True, "gold_answer": {"ranking": [[b], [a, c]], "flags": {str(a): ["unsafe"]}}}
    response = client_as("lead").patch(url(task), body, format="json")
    assert response.status_code == 200, response.json()
    task.refresh_from_db()
    assert task.is_gold and task.gold_answer == {"ranking": [[b], [a, c]], "flags": {str(a): ["unsafe"]}}


@pytest.mark.parametrize("answer,field", [
    ({"ranking": "first"}, "gold_answer.ranking"),
    ({"ranking": [[999]]}, "gold_answer.ranking"),
    ({"ranking": None, "flags": {}}, "gold_answer.ranking"),
    ({"bogus": 1}, "gold_answer.bogus"),
    ("best", "gold_answer"),
])
def test_it_refuses_a_bad_gold_answer_and_changes_nothing(client_as, tasks, answer, field):
    task = tasks[0]
    response = client_as("lead").patch(url(task), {"is_gold": True, "gold_answer": answer}, format="json")
    assert response.status_code == 400
    assert field in {e["field"] for e in response.json()["errors"]}
    task.refresh_from_db()
    assert (task.is_gold, task.gold_answer) == (False, None)


def test_it_refuses_gold_without_an_answer(client_as, tasks):
    response = client_as("lead").patch(url(tasks[0]), {"is_gold": True}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "gold_answer"


def test_it_clears_a_gold_answer(client_as, tasks):
    task = tasks[0]
    client_as("lead").patch(url(task), {"is_gold": True, "gold_answer": {"ranking": [[i] for i in ids(task)]}}, format="json")
    assert client_as("lead").patch(url(task), {"is_gold": False}, format="json").status_code == 200
    task.refresh_from_db()
    assert (task.is_gold, task.gold_answer) == (False, None)


@pytest.mark.parametrize("role,status", role_cases({"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403,
                                                    "outsider": 404, "anonymous": ANON}))
def test_it_lets_leads_only_import_gold(client_as, tasks, role, status):
    task = tasks[0]
    upload = gold_file({"task": task.pk, "gold_answer": {"ranking": [[i] for i in ids(task)]}})
    response = client_as(role).post("/api/campaigns/helpful/tasks/gold/", {"file": upload}, format="multipart")
    assert response.status_code == status
    task.refresh_from_db()
    assert task.is_gold is (role == "lead")
    if status == 200:
        assert response.json() == {"updated": 1}


def test_it_imports_all_or_nothing_naming_each_bad_line(client_as, tasks, other_campaign):
    first, second, third = tasks[:3]
    upload = gold_file(
        {"task": first.pk, "gold_answer": {"ranking": [[i] for i in ids(first)]}},   # fine
        {"task": second.pk, "gold_answer": {"ranking": [[ids(second)[0]]]}},          # line 2: not all ranked
        "not json",                                                                   # line 3
        {"task": 10**9, "gold_answer": None},                                         # line 4: no such task
        {"task": first.pk, "gold_answer": None},                                      # line 5: repeated
        {"gold_answer": {}},                                                          # line 6: no task
        {"task": third.pk},                                                           # line 7: no answer
    )
    response = client_as("lead").post("/api/campaigns/helpful/tasks/gold/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    errors = [(e["line"], e["field"]) for e in response.json()["errors"]]
    assert errors == [(2, "gold_answer.ranking"), (3, "json"), (4, "task"), (5, "task"), (6, "task"), (7, "gold_answer")]
    for task in tasks:
        task.refresh_from_db()
        assert not task.is_gold  # line 1 was fine, yet nothing was written


def test_it_imports_gold_from_the_tasks_page(page_as, tasks):
    task = tasks[1]
    order = [[i] for i in reversed(ids(task))]
    response = page_as("lead").post("/campaigns/helpful/tasks/gold/", {"file": gold_file({"task": task.pk, "gold_answer": {"ranking": order}})})
    assert response.status_code == 302 and response["Location"] == "/campaigns/helpful/tasks/"
    task.refresh_from_db()
    assert task.is_gold and task.gold_answer == {"ranking": order}


def test_it_shows_the_line_errors_on_the_tasks_page(page_as, tasks):
    response = page_as("lead").post("/campaigns/helpful/tasks/gold/", {"file": gold_file({"task": tasks[0].pk, "gold_answer": {"ranking": []}})})
    assert response.status_code == 400
    body = response.content.decode()
    assert "line 1" in body and "gold_answer.ranking" in body and "Nothing was changed" in body


PAGE = {"lead": 200, "labeler": 403, "reviewer": 403, "engineer": 403, "outsider": 404, "anonymous": 302}


@pytest.mark.parametrize("role,status", role_cases(PAGE))
def test_it_shows_the_task_pages_to_leads_only(page_as, tasks, role, status):
    client = page_as(role)
    assert client.get("/campaigns/helpful/tasks/").status_code == status
    assert client.get(f"/campaigns/helpful/tasks/{tasks[0].pk}/gold/").status_code == status
    response = client.post("/campaigns/helpful/tasks/gold/", {"file": gold_file({"task": tasks[0].pk, "gold_answer": None})})
    assert response.status_code == (302 if role == "lead" else status)


def test_it_gives_the_gold_editor_the_task_as_the_labeling_page_sees_it(page_as, tasks):
    task = tasks[0]
    response = page_as("lead").get(f"/campaigns/helpful/tasks/{task.pk}/gold/")
    payload = response.context["payload"]
    assert [c["id"] for c in payload["completions"]] == ids(task)
    assert all("html" in c for c in payload["completions"]) and payload["campaign"]["flag_vocabulary"] == ["unsafe", "wrong"]
    assert 'id="gold-task" type="application/json"' in response.content.decode()


def test_it_answers_404_for_a_task_of_another_campaign(page_as, tasks, other_campaign):
    from labelhub.labeling import services
    from tests.labeling.conftest import add_prompts

    add_prompts(other_campaign, 1)
    services.tasks_create(campaign=other_campaign)
    foreign = other_campaign.tasks.get()
    assert page_as("lead").get(f"/campaigns/helpful/tasks/{foreign.pk}/gold/").status_code == 404


def test_it_leaves_the_priority_alone_when_the_gold_answer_is_refused(client_as, tasks):
    task = tasks[0]
    response = client_as("lead").patch(url(task), {"priority": 9, "is_gold": True, "gold_answer": {"ranking": [[1]]}}, format="json")
    assert response.status_code == 400
    task.refresh_from_db()
    assert (task.priority, task.is_gold) == (0, False)


def test_it_refuses_a_gold_file_over_the_import_limit_before_reading_it(client_as, tasks, settings):
    settings.LABELHUB_IMPORT_MAX_BYTES = 10
    task = tasks[0]
    upload = gold_file({"task": task.pk, "gold_answer": {"ranking": [[i] for i in ids(task)]}})
    response = client_as("lead").post("/api/campaigns/helpful/tasks/gold/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file" and "over the limit" in response.json()["errors"][0]["message"]
    task.refresh_from_db()
    assert not task.is_gold
