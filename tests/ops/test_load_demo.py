import pytest
from django.core.management import call_command

from labelhub.campaigns.models import Campaign, Completion, Prompt
from labelhub.labeling.models import Task
from labelhub.ops.demo import DEMO_USERS

pytestmark = pytest.mark.django_db


def counts():
    return (Campaign.objects.count(), Prompt.objects.count(), Completion.objects.count(), Task.objects.count())


def test_it_loads_users_of_every_role_and_a_labelable_campaign(capsys):
    call_command("load_demo")
    campaign = Campaign.objects.get(slug="demo-helpful")
    assert campaign.status == Campaign.Status.ACTIVE
    assert campaign.prompts.count() >= 50
    assert all(p.completions.count() >= 4 for p in campaign.prompts.all())
    assert campaign.tasks.count() == campaign.prompts.count()
    assert {m.role for m in campaign.memberships.all()} == {"lead", "labeler", "reviewer", "engineer"}
    out = capsys.readouterr().out
    for user in DEMO_USERS:
        assert f"{user.username}" in out and user.password in out


def test_it_duplicates_nothing_when_run_twice():
    call_command("load_demo")
    before = counts()
    call_command("load_demo")
    assert counts() == before
