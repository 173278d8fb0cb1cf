import pytest
from django.core.management import CommandError, call_command

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.feedback.leaderboard import leaderboard
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment
from labelhub.ops.preferences import length_band
from labelhub.ops.simulate import answer

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_policies(campaign):
    campaign.completions_per_task = 2
    campaign.save()
    fits, rambles = Policy.objects.create(campaign=campaign, name="fits"), Policy.objects.create(campaign=campaign, name="rambles")
    for i in range(12):
        prompt = Prompt.objects.create(campaign=campaign, text=f"q{i}", content_hash=content_hash(f"q{i}"))
        for policy, text in ((fits, "word " * 12), (rambles, "word " * 60)):
            Completion.objects.create(prompt=prompt, policy=policy, text=f"{text}{i}", content_hash=content_hash(f"{policy.name}{i}"))
    labeling.tasks_create(campaign=campaign)
    return campaign


def test_it_judges_through_the_api_by_the_hidden_preference(two_policies, capsys):
    call_command("simulate_labelers", campaign="helpful", preference="length_band:8-20", labelers=3, noise=0.0)
    assert Judgment.objects.count() == 12 * two_policies.overlap
    assert set(Judgment.objects.values_list("labeler__username", flat=True)) <= {"sim-labeler-1", "sim-labeler-2", "sim-labeler-3"}
    board = leaderboard(campaign=two_policies, rounds=20)
    assert [s.policy.name for s in board.standings] == ["fits", "rambles"]
    assert "24 judgments" in capsys.readouterr().out


def test_it_stops_at_a_budget(two_policies):
    call_command("simulate_labelers", campaign="helpful", preference="kind_words", labelers=2, max_judgments=5)
    assert Judgment.objects.count() == 5


def test_it_refuses_unknown_campaigns_and_preferences(two_policies):
    with pytest.raises(CommandError, match="No campaign"):
        call_command("simulate_labelers", campaign="nope")
    with pytest.raises(CommandError, match="unknown preference"):
        call_command("simulate_labelers", campaign="helpful", preference="vibes")


def test_it_answers_ties_and_pairwise_strengths():
    import random

    lease = {"task": {"kind": "pairwise"}, "campaign": {"rating_axes": []}, "prompt": {"text": "q", "messages": None},
             "completions": [{"id": 1, "text": "word " * 12}, {"id": 2, "text": "word " * 40}]}
    body = answer(lease, length_band, 0.0, random.Random(0))
    assert (body["preferred"], body["strength"]) == (1, "much_better")
    lease["completions"][1]["text"] = "word " * 10
    assert answer(lease, length_band, 0.0, random.Random(0))["strength"] == "tie"
    lease["task"]["kind"] = "rank"
    assert answer(lease, length_band, 0.0, random.Random(0))["ranking"] == [[1, 2]]


def test_it_works_outside_the_test_runner_with_the_configured_hosts(two_policies, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]  # as `make demo` runs, without "testserver"
    call_command("simulate_labelers", campaign="helpful", preference="kind_words", labelers=1, max_judgments=2)
    assert Judgment.objects.count() == 2
