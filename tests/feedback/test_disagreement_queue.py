"""The disagreement queue through the API, on judgments made through the queue: tasks the
labelers disagree on, and pairs where a reward model and the human majority disagree."""

import pytest

from labelhub.campaigns.models import Completion
from labelhub.feedback import services
from labelhub.labeling.models import Task
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/disagreements/"


@pytest.fixture
def split_votes(campaign, three_labelers):
    """Two tasks; labeler and ann rank good > fair > poor, bob the reverse. Per task the three
    labeler pairs compare 3 completion pairs each: 3 + 0 + 0 of 9 match = 0.3333."""
    add_tasks(campaign, 2)
    for user, order in zip(three_labelers, (("good", "fair", "poor"), ("good", "fair", "poor"), ("poor", "fair", "good")),
                           strict=True):
        judge_all(campaign, user, by_policy(*order))
    return campaign


def test_it_lists_tasks_below_the_threshold_with_their_agreement(split_votes, api_as, reviewer):
    body = api_as(reviewer).get(URL).json()
    tasks = sorted(Task.objects.values_list("pk", flat=True))
    assert body["count"] == 2
    assert [(t["task"], t["agreement"], t["comparisons"], t["labelers"], t["overlap"]) for t in body["tasks"]] == [
        (pk, 0.3333, 9, ["ann", "bob", "labeler"], 3) for pk in tasks]
    assert body["tasks"][0]["prompt"] == "Question 0?"
    assert api_as(reviewer).get(URL, {"threshold": 0.3}).json()["tasks"] == []


def test_it_lists_the_reward_models_favourites_the_humans_reject(split_votes, api_as, lead, reviewer):
    reward = {"good": 0.0, "fair": 1.0, "poor": 5.0}  # a reward model that loves the poor answers
    scores = [(c.pk, reward[c.policy.name]) for c in Completion.objects.select_related("policy")]
    services.completion_scores_record(campaign=split_votes, scorer="reward-r7", scores=scores)
    body = api_as(reviewer).get(URL + "reward/").json()
    assert (body["scorer"], body["count"]) == ("reward-r7", 6)  # 3 pairs of each of the 2 tasks
    first = body["pairs"][0]
    assert (first["favourite"]["policy"], first["preferred_by_humans"]["policy"], first["gap"]) == ("poor", "good", 5.0)
    assert first["votes"] == {"favourite": 1, "other": 2, "tie": 0}
    assert [p["gap"] for p in body["pairs"]] == [5.0, 5.0, 4.0, 4.0, 1.0, 1.0]
    assert api_as(reviewer).get(URL + "reward/", {"min_votes": 4}).json()["count"] == 0
    assert api_as(reviewer).get(URL + "reward/", {"margin": 4.5}).json()["count"] == 2
    unknown = api_as(reviewer).get(URL + "reward/", {"scorer": "nobody"})
    assert unknown.status_code == 400


def test_without_scores_the_reward_list_is_empty_and_says_so(split_votes, api_as, reviewer):
    assert api_as(reviewer).get(URL + "reward/").json() | {"pairs": []} == {
        "scorer": None, "scorers": [], "min_votes": 2, "margin": 0.0, "count": 0, "pairs": []}


def test_scores_of_another_campaigns_completion_refuse_the_lot(split_votes, api_as, lead):
    mine = Completion.objects.first()
    response = api_as(lead).post("/api/campaigns/helpful/completion-scores/", {"scorer": "rm", "scores": [
        {"completion": mine.pk, "score": 1}, {"completion": 10**9, "score": 2}]}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "scores[1].completion", "message": f"no completion {10**9} in this campaign"}]
    rescored = api_as(lead).post("/api/campaigns/helpful/completion-scores/", {"scorer": "rm", "scores": [
        {"completion": mine.pk, "score": 1}]}, format="json")
    assert rescored.status_code == 201
    api_as(lead).post("/api/campaigns/helpful/completion-scores/", {"scorer": "rm", "scores": [
        {"completion": mine.pk, "score": 3}]}, format="json")
    assert list(mine.scores.values_list("score", flat=True)) == [3.0]  # a new score replaces the scorer's old one


def test_both_lists_are_read_in_the_same_few_queries_for_any_size_and_cached(campaign, three_labelers, api_as, reviewer):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client, counts = api_as(reviewer), []
    client.get(URL)  # the token's first use is written down once
    for n, start in ((1, 0), (6, 1)):
        add_tasks(campaign, n, start=start)
        for user, order in zip(three_labelers, (("good", "fair", "poor"), ("good", "fair", "poor"),
                                                ("poor", "fair", "good")), strict=True):
            judge_all(campaign, user, by_policy(*order))
        services.completion_scores_record(campaign=campaign, scorer="rm", scores=[
            (c.pk, {"good": 0.0, "fair": 1.0, "poor": 5.0}[c.policy.name]) for c in Completion.objects.select_related("policy")])
        cache.clear()
        for url in (URL, URL + "reward/"):
            for _ in ("computed", "cached"):
                with CaptureQueriesContext(connection) as ctx:
                    body = client.get(url).json()
                assert len(body.get("tasks", body.get("pairs"))) == (start + n) * (1 if url == URL else 3)
                sql = [q["sql"] for q in ctx.captured_queries]
                counts.append((len(sql), any("JSON_AGG" in q for q in sql)))  # JSON_AGG: the judgments read
    assert counts[:4] == counts[4:], counts
    # 3 for the token, the campaign and the roles. Tasks: the judgment state (twice when computing),
    # the answers, the tasks. Reward: the scorers, the scores' state, the judgment state (twice when
    # computing), the scores, the answers, the completions, the tasks.
    assert counts[:4] == [(3 + 4, True), (3 + 2, False), (3 + 8, True), (3 + 5, False)], counts


def test_the_cached_lists_follow_new_scores_and_show_a_send_back_at_once(split_votes, api_as, reviewer, lead):
    scores = [(c.pk, {"good": 0.0, "fair": 1.0, "poor": 5.0}[c.policy.name]) for c in Completion.objects.select_related("policy")]
    services.completion_scores_record(campaign=split_votes, scorer="rm", scores=scores)
    assert api_as(reviewer).get(URL + "reward/").json()["count"] == 6
    services.completion_scores_record(campaign=split_votes, scorer="rm", scores=[(c, -s) for c, s in scores])
    assert api_as(reviewer).get(URL + "reward/").json()["count"] == 0  # now it agrees with the majority
    task = api_as(reviewer).get(URL).json()["tasks"][0]
    api_as(lead).post(URL + "send-back/", {"task": task["task"], "extra": 2}, format="json")
    assert api_as(reviewer).get(URL).json()["tasks"][0]["overlap"] == task["overlap"] + 2
