"""The leaderboard's figures are computed once per state of the campaign's comparisons and
read from the cache after that: a repeated GET reads no judgment, gives the figures a fresh
fit gives, and a new judgment, a deleted one, a promotion or a new policy version shows on
the very next GET."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash
from labelhub.feedback import bradley_terry
from labelhub.feedback import leaderboard as lb
from labelhub.labeling import services as labeling
from labelhub.labeling.models import Judgment

pytestmark = pytest.mark.django_db

URL = "/api/campaigns/helpful/leaderboard/"
READS_RANKINGS = '"labeling_judgment"."ranking"'


def get(api_as, user):
    with CaptureQueriesContext(connection) as queries:
        response = api_as(user).get(URL)
    assert response.status_code == 200
    return response.json(), [q["sql"] for q in queries.captured_queries]


def standing(payload, name):
    return next(s for s in payload["standings"] if s["name"] == name)


def judge_one_more(campaign, labeler, best_first: list[str], key="one-more"):
    """One more prompt with a completion by each named policy, ranked in the given order."""
    policies = {p.name: p for p in Policy.objects.filter(campaign=campaign, name__in=best_first)}
    prompt = Prompt.objects.create(campaign=campaign, text=f"{key}: one more question?", content_hash=content_hash(key))
    for name in best_first:
        Completion.objects.create(prompt=prompt, policy=policies[name], text=f" An answer by {name}.",
                                  content_hash=content_hash(f"{key} {name}"))
    assert labeling.tasks_create(campaign=campaign).made == 1
    assignment = labeling.next_task(labeler=labeler)
    by_policy = {c.policy.name: c.id for c in Completion.objects.filter(prompt=prompt).select_related("policy")}
    labeling.judgment_submit(labeler=labeler, assignment_id=assignment.pk, data={
        "idempotency_key": key, "ranking": [[by_policy[name]] for name in best_first]})


def test_it_answers_a_repeated_get_from_the_cache(api_as, engineer, judged_campaign):
    first, first_sql = get(api_as, engineer)
    again, again_sql = get(api_as, engineer)
    assert any(READS_RANKINGS in sql for sql in first_sql)
    assert not any(READS_RANKINGS in sql for sql in again_sql)
    assert again == first
    assert first["comparisons"] == 360


def test_it_gives_the_figures_of_a_fresh_fit(judged_campaign):
    good, mixed, bad = (Policy.objects.get(campaign=judged_campaign, name=n).id for n in ("good", "mixed", "bad"))
    comparisons = lb.policy_comparisons(campaign=judged_campaign)
    expected = bradley_terry.bootstrap([good, mixed, bad], comparisons, reference=good, rounds=30, seed=5)
    for _ in range(2):  # cold, then from the cache
        board = lb.leaderboard(campaign=judged_campaign, rounds=30, seed=5)
        assert {s.policy.id: (s.strength, s.low, s.high) for s in board.standings} == expected
        assert board.comparisons == len(comparisons)
    other_seed = lb.leaderboard(campaign=judged_campaign, rounds=30, seed=6)
    assert {s.policy.id: (s.strength, s.low, s.high) for s in other_seed.standings} != expected


def test_it_shows_a_new_judgment_on_the_next_get(api_as, engineer, labeler, judged_campaign):
    before, _ = get(api_as, engineer)
    judge_one_more(judged_campaign, labeler, ["bad", "mixed", "good"])  # an upset
    after, sql = get(api_as, engineer)
    assert any(READS_RANKINGS in s for s in sql)
    assert after["comparisons"] == before["comparisons"] + 3
    assert standing(after, "bad")["wins"] == standing(before, "bad")["wins"] + 2
    assert standing(after, "bad")["strength"] > standing(before, "bad")["strength"]


def test_it_shows_a_deleted_judgment_on_the_next_get(api_as, engineer, labeler, judged_campaign):
    judge_one_more(judged_campaign, labeler, ["bad", "mixed", "good"])
    before, _ = get(api_as, engineer)
    Judgment.objects.filter(campaign=judged_campaign, idempotency_key="one-more").delete()
    after, _ = get(api_as, engineer)
    assert after["comparisons"] == before["comparisons"] - 3 == 360
    assert standing(after, "bad")["wins"] == standing(before, "bad")["wins"] - 2


def test_it_tells_a_rolled_back_deletion_from_a_later_one(api_as, engineer, labeler, judged_campaign):
    judge_one_more(judged_campaign, labeler, ["bad", "mixed", "good"], key="upset-one")
    judge_one_more(judged_campaign, labeler, ["good", "mixed", "bad"], key="ordinary-one")
    first = Judgment.objects.filter(campaign=judged_campaign).order_by("id").first()
    with transaction.atomic():
        first.delete()
        during, _ = get(api_as, engineer)  # same count and last id as after the deletion below
        transaction.set_rollback(True)
    assert standing(during, "bad")["wins"] == 2.0
    Judgment.objects.filter(campaign=judged_campaign, idempotency_key="upset-one").delete()
    after, _ = get(api_as, engineer)
    assert after["comparisons"] == during["comparisons"]
    assert standing(after, "bad")["wins"] == 0


def test_it_shows_a_promotion_on_the_next_get(api_as, engineer, judged_campaign):
    Policy.objects.filter(campaign=judged_campaign, name="bad").update(is_best=True)
    before, _ = get(api_as, engineer)
    assert before["reference"] == "bad" and standing(before, "bad")["is_best"]
    mixed = Policy.objects.get(campaign=judged_campaign, name="mixed")
    promoted = api_as(engineer).post(f"{URL}promote/", {"policy": mixed.pk}, format="json")
    assert promoted.status_code == 200
    after, _ = get(api_as, engineer)
    assert after["reference"] == "mixed"
    assert standing(after, "mixed")["is_best"] and not standing(after, "bad")["is_best"]
    assert standing(after, "mixed")["strength"] == 0.0
    assert standing(after, "bad")["strength"] < 0 < standing(after, "good")["strength"]


def test_it_shows_a_new_policy_version_on_the_next_get(api_as, engineer, labeler, judged_campaign):
    before, _ = get(api_as, engineer)
    good = Policy.objects.get(campaign=judged_campaign, name="good")
    Policy.objects.create(campaign=judged_campaign, name="good-v2", parent=good)
    judge_one_more(judged_campaign, labeler, ["good-v2", "good", "bad"])
    after, _ = get(api_as, engineer)
    assert "good-v2" not in {s["name"] for s in before["standings"]}
    newest = standing(after, "good-v2")
    assert (newest["comparisons"], newest["wins"], newest["parent"]) == (2, 2.0, good.pk)


def test_it_shows_a_renamed_or_flagged_policy_on_the_next_get(api_as, engineer, judged_campaign):
    get(api_as, engineer)
    Policy.objects.filter(campaign=judged_campaign, name="mixed").update(name="mixed-renamed")
    after, sql = get(api_as, engineer)
    assert not any(READS_RANKINGS in s for s in sql)  # the figures still come from the cache
    assert {s["name"] for s in after["standings"]} == {"good", "mixed-renamed", "bad"}


def test_the_page_reads_no_judgment_on_a_repeated_get(client, engineer, judged_campaign):
    client.force_login(engineer)
    assert client.get("/campaigns/helpful/leaderboard/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/campaigns/helpful/leaderboard/")
    assert response.status_code == 200 and "360 human comparisons" in response.content.decode()
    assert not any(READS_RANKINGS in q["sql"] for q in queries.captured_queries)
