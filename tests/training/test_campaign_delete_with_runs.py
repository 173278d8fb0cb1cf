"""A campaign with runs, reward models and produced policies can still be deleted; deleting
an input keeps the run (its lineage link becomes empty)."""

import pytest

from labelhub.campaigns import services as campaign_services
from labelhub.campaigns.models import Policy
from labelhub.training.models import RewardModel, Run, RunMetric

pytestmark = pytest.mark.django_db


@pytest.fixture
def trained(make_run, policy, snapshot, reward_model):
    run = make_run(kind=Run.Kind.PPO, state=Run.State.SUCCEEDED, policy=policy, reward_model=reward_model)
    produced = Policy.objects.create(campaign=policy.campaign, name="base-ppo", base_model="tiny", parent=policy)
    Run.objects.filter(pk=run.pk).update(produced_policy=produced)
    RunMetric.objects.create(run=run, step=1, values={"loss": 1})
    return run


def test_it_deletes_a_campaign_with_everything_its_runs_hold(campaign, trained):
    campaign_services.campaign_delete(campaign=campaign)
    assert (Run.objects.count(), RunMetric.objects.count(), RewardModel.objects.count()) == (0, 0, 0)


def test_deleting_an_input_keeps_the_run(trained, reward_model):
    reward_model.delete()
    trained.refresh_from_db()
    assert (trained.state, trained.reward_model) == ("succeeded", None)
