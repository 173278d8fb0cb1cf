import pytest

from labelhub.campaigns.models import Policy
from labelhub.feedback import leaderboard as lb

pytestmark = pytest.mark.django_db


def test_it_ranks_policies_by_human_preference(judged_campaign):
    board = lb.leaderboard(campaign=judged_campaign, rounds=50)
    assert [s.policy.name for s in board.standings] == ["good", "mixed", "bad"]
    assert board.reference.name == "good"  # the first root policy is the reference
    assert board.comparisons == 360
    good, mixed, bad = (Policy.objects.get(campaign=judged_campaign, name=n).id for n in ("good", "mixed", "bad"))
    assert board.win_rates[good][bad] == 1.0 and board.win_rates[bad][good] == 0.0
    assert board.games[good][mixed] == 120
    for s in board.standings:
        assert s.low <= s.strength <= s.high


def test_it_promotes_only_when_the_lower_bound_beats_the_best(judged_campaign):
    good, mixed, bad = (Policy.objects.get(campaign=judged_campaign, name=n) for n in ("good", "mixed", "bad"))
    Policy.objects.filter(pk=bad.pk).update(is_best=True)
    standing = lb.policy_promote(campaign=judged_campaign, policy=mixed, rounds=100)
    assert standing.low > 0
    assert list(Policy.objects.filter(campaign=judged_campaign, is_best=True)) == [mixed]
    with pytest.raises(lb.PromotionRefused):
        lb.policy_promote(campaign=judged_campaign, policy=bad, rounds=100)
    assert list(Policy.objects.filter(campaign=judged_campaign, is_best=True)) == [mixed]


def test_it_refuses_a_policy_without_comparisons(judged_campaign):
    lonely = Policy.objects.create(campaign=judged_campaign, name="lonely")
    with pytest.raises(lb.PromotionRefused, match="no human comparisons"):
        lb.policy_promote(campaign=judged_campaign, policy=lonely)
