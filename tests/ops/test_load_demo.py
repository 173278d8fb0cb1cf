import pytest
from django.core.management import call_command

from labelhub.campaigns.models import Campaign, Completion, Prompt
from labelhub.labeling.models import Task
from labelhub.ops.demo import DEMO_USERS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings):
    settings.DEBUG = True  # pytest-django turns it off; the demo refuses to load without it (or --force)


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


def test_it_refuses_with_debug_off_unless_forced(settings):
    from django.core.management.base import CommandError

    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("load_demo")
    assert counts() == (0, 0, 0, 0)
    call_command("load_demo", "--force")
    assert Campaign.objects.filter(slug="demo-helpful").exists()
