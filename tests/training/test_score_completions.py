"""`manage.py score_completions`: a campaign's completions go through `python -m trainer score`
with a reward model and come back as completion scores under its name, which the disagreement
queue reads; a trainer failure records nothing and says why."""

import pytest
from django.core.management import CommandError, call_command

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.feedback.models import CompletionScore
from labelhub.training.models import RewardModel

pytestmark = [pytest.mark.django_db, pytest.mark.trainer]


@pytest.fixture
def completions(campaign):
    policy = Policy.objects.create(campaign=campaign, name="base")
    made = []
    for i, texts in enumerate([(" It is kind and calm.", " It is rude."), (" It is kind and calm.", " No.")]):
        prompt = Prompt.objects.create(campaign=campaign, text=f"Question {i}?", content_hash=content_hash(f"q{i}"))
        made += [Completion.objects.create(prompt=prompt, policy=policy, text=t, content_hash=content_hash(t)) for t in texts]
    return made


def test_it_records_a_score_of_every_completion_under_the_reward_models_name(campaign, completions, capsys):
    # The tiny reward-model base (an untrained score head): what is tested is the way there and back.
    RewardModel.objects.create(campaign=campaign, name="rm-base", base_model="tiny-rm", adapter_path="tiny-rm")
    call_command("score_completions", "helpful")
    scores = dict(CompletionScore.objects.filter(scorer="rm-base").values_list("completion_id", "score"))
    assert set(scores) == {c.pk for c in completions}
    from trainer.score import RewardScorer

    # the same model scores them here: each score must have landed on its own completion
    expected = RewardScorer("tiny-rm").score([c.prompt.text for c in completions], [c.text for c in completions])
    assert [scores[c.pk] for c in completions] == pytest.approx(expected, abs=1e-4)
    assert len({round(s, 4) for s in expected}) == 4
    assert "4 completions of helpful scored by rm-base." in capsys.readouterr().out


def test_a_trainer_failure_records_nothing_and_says_why(campaign, completions):
    RewardModel.objects.create(campaign=campaign, name="gone", base_model="tiny-rm", adapter_path="/nowhere/adapter")
    with pytest.raises(CommandError, match="trainer score exited with"):
        call_command("score_completions", "helpful", "--reward-model", "gone")
    assert not CompletionScore.objects.exists()
    with pytest.raises(CommandError, match="no reward model 'other'"):
        call_command("score_completions", "helpful", "--reward-model", "other")
