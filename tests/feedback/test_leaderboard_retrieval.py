"""The leaderboard compares a retrieval-augmented version with the same policy without
retrieval (strengths, their difference, head to head) and counts the answers labelers flagged
"not supported by the sources"; a campaign without retrieval versions pays no query for it."""

import pytest

from labelhub.campaigns.models import UNSUPPORTED_FLAG, Completion, Policy, Prompt, content_hash
from labelhub.campaigns.services import campaign_flag_ensure
from labelhub.feedback import leaderboard as lb
from labelhub.labeling import services as labeling

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(campaign):
    campaign.completions_per_task = 3
    campaign.save(update_fields=["completions_per_task"])
    plain = Policy.objects.create(campaign=campaign, name="tiny", base_model="tiny")
    rag = Policy.objects.create(campaign=campaign, name="tiny-rag3", base_model="tiny", retrieval_k=3, parent=plain)
    tuned = Policy.objects.create(campaign=campaign, name="tiny-sft", base_model="tiny", adapter_path="runs/1/adapter")
    for i in range(12):
        prompt = Prompt.objects.create(campaign=campaign, text=f"Question {i}?", content_hash=content_hash(f"q{i}"))
        for policy in (plain, rag, tuned):
            text = f"{policy.name} answers {i}"
            Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))
    labeling.tasks_create(campaign=campaign)
    return plain, rag, tuned


def judge(campaign, labeler, best_first, *, flag_every=0, flagged_policy=None):
    n = 0
    while (a := labeling.next_task(labeler=labeler, campaign=campaign)) is not None:
        completions = list(Completion.objects.filter(pk__in=a.display_order).select_related("policy"))
        ranked = sorted(completions, key=lambda c: best_first.index(c.policy.name))
        flags = {}
        if flag_every and n % flag_every == 0:
            flags = {str(next(c.pk for c in completions if c.policy == flagged_policy)): [UNSUPPORTED_FLAG]}
        labeling.judgment_submit(labeler=labeler, assignment_id=a.pk, data={
            "idempotency_key": f"judgment-{a.pk:06d}", "ranking": [[c.pk] for c in ranked], "flags": flags})
        n += 1


def test_it_sets_a_retrieval_version_beside_the_same_policy_without_it(campaign, labeler, engineer, versions, api_as, client):
    plain, rag, tuned = versions
    campaign_flag_ensure(campaign=campaign, flag=UNSUPPORTED_FLAG)
    judge(campaign, labeler, ["tiny-rag3", "tiny", "tiny-sft"], flag_every=4, flagged_policy=rag)
    board = lb.leaderboard(campaign=campaign, rounds=20)
    [row] = board.retrieval
    assert (row.policy, row.without) == (rag, plain)  # not tiny-sft: another adapter is another model
    assert row.win_rate == 1.0 and row.games == 12
    assert row.gain > 0 and row.gain == pytest.approx(row.strength - row.without_strength)
    assert (row.unsupported, row.judged) == (3, 12)

    body = api_as(engineer).get("/api/campaigns/helpful/leaderboard/").json()
    assert {k: body["retrieval"][0][k] for k in ("name", "without_name", "unsupported", "judged", "retrieval_k")} == {
        "name": "tiny-rag3", "without_name": "tiny", "unsupported": 3, "judged": 12, "retrieval_k": 3}
    client.force_login(engineer)
    page = client.get("/campaigns/helpful/leaderboard/")
    assert b'id="retrieval"' in page.content and b"tiny-rag3" in page.content


def test_it_says_when_no_policy_without_retrieval_is_ranked(campaign, labeler, versions):
    plain, rag, tuned = versions
    Policy.objects.filter(pk=plain.pk).update(base_model="other")
    judge(campaign, labeler, ["tiny-rag3", "tiny", "tiny-sft"])
    [row] = lb.leaderboard(campaign=campaign, rounds=20).retrieval
    assert row.without is None and row.gain is None and row.win_rate is None


def test_a_board_without_retrieval_versions_costs_no_query_for_it(campaign, labeler, versions, django_assert_num_queries):
    plain, rag, tuned = versions
    Policy.objects.filter(pk=rag.pk).update(retrieval_k=0)
    judge(campaign, labeler, ["tiny-rag3", "tiny", "tiny-sft"])
    board = lb.leaderboard(campaign=campaign, rounds=20)
    with django_assert_num_queries(0):
        assert lb.retrieval_comparisons(campaign=campaign, board=board) == []


def test_it_shows_each_versions_forgetting_report_beside_its_strength(campaign, labeler, engineer, versions, api_as, client):
    plain, rag, tuned = versions
    Policy.objects.filter(pk=tuned.pk).update(forgetting={"perplexity_ratio": 1.8, "perplexity": 36.0,
                                                          "base_perplexity": 20.0, "rougeL": 0.4})
    Policy.objects.filter(pk=plain.pk).update(forgetting={"perplexity_ratio": 1.0, "perplexity": 20.0,
                                                          "base_perplexity": 20.0, "rougeL": 1.0})
    judge(campaign, labeler, ["tiny-rag3", "tiny", "tiny-sft"])
    body = api_as(engineer).get("/api/campaigns/helpful/leaderboard/").json()
    rows = {row["name"]: row for row in body["standings"]}
    assert (rows["tiny-sft"]["forgets"], rows["tiny"]["forgets"], rows["tiny-rag3"]["forgets"]) == (True, False, False)
    assert rows["tiny-sft"]["forgetting"]["perplexity_ratio"] == 1.8 and rows["tiny-rag3"]["forgetting"] is None
    assert body["forgetting_threshold"] == 1.5
    client.force_login(engineer)
    page = client.get("/campaigns/helpful/leaderboard/").content.decode()
    assert page.count(">forgets</span>") == 1 and "perplexity ×1.80" in page
