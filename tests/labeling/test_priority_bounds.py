"""Task priority (and a campaign's loop priority) lies in 0–100: beyond is a 400 naming the
field that changes nothing, on the API and the page; the database refuses it too."""

import pytest
from django.db import IntegrityError, transaction

from labelhub.labeling.models import Task
from tests.api_errors import error_fields

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("priority", [-1, 101, 100000])
def test_it_refuses_a_task_priority_out_of_range(api_as, lead, tasks, priority):
    response = api_as(lead).patch(f"/api/campaigns/helpful/tasks/{tasks[0].pk}/", {"priority": priority}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"priority"}
    bound = "greater than or equal to 0" if priority < 0 else "less than or equal to 100"
    assert bound in response.json()["errors"][0]["message"]
    tasks[0].refresh_from_db()
    assert tasks[0].priority == 0


@pytest.mark.parametrize("priority", [0, 100])
def test_it_takes_the_ends_of_the_range(api_as, lead, tasks, priority):
    response = api_as(lead).patch(f"/api/campaigns/helpful/tasks/{tasks[0].pk}/", {"priority": priority}, format="json")
    assert response.status_code == 200
    tasks[0].refresh_from_db()
    assert tasks[0].priority == priority


@pytest.mark.parametrize("priority", [-1, 101])
def test_it_refuses_to_generate_tasks_out_of_range(api_as, lead, campaign, priority):
    from tests.labeling.conftest import add_prompts

    add_prompts(campaign, 2)
    response = api_as(lead).post("/api/campaigns/helpful/tasks/generate/", {"priority": priority}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"priority"}
    assert not Task.objects.exists()


@pytest.mark.parametrize("priority", [-1, 101])
def test_it_refuses_a_loop_priority_out_of_range(api_as, lead, campaign, priority):
    response = api_as(lead).patch("/api/campaigns/helpful/", {"loop_priority": priority}, format="json")
    assert response.status_code == 400
    assert error_fields(response) == {"loop_priority"}
    campaign.refresh_from_db()
    assert campaign.loop_priority == 10


def test_the_page_refuses_it_with_a_message_and_makes_no_tasks(client, lead, campaign):
    from tests.labeling.conftest import add_prompts

    add_prompts(campaign, 2)
    client.force_login(lead)
    response = client.post("/campaigns/helpful/tasks/make/", {"priority": "100000"}, follow=True)
    assert "Priority must be a whole number from 0 to 100." in response.content.decode()
    assert not Task.objects.exists()


def test_the_database_refuses_it_too(tasks, campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=tasks[0].pk).update(priority=101)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(campaign).objects.filter(pk=campaign.pk).update(loop_priority=-1)
