"""Reviewing and the disagreement queue are for leads and reviewers: labelers and engineers
are refused (403), non-members see nothing (404), anonymous callers 401. Completion scores
are recorded by leads and engineers. A refused request changes nothing."""

import pytest

from labelhub.feedback.models import CompletionScore, Review
from labelhub.labeling.models import Judgment, Task
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db

REVIEWERS_ONLY = [("lead", True), ("reviewer", True), ("engineer", 403), ("labeler", 403), ("outsider", 404), (None, 401)]


@pytest.fixture
def judgment(campaign, labeler):
    add_tasks(campaign, 1)
    judge_all(campaign, labeler, by_policy("good", "fair", "poor"))
    return Judgment.objects.get()


@pytest.mark.parametrize("url", ["/api/campaigns/helpful/review-queue/", "/api/campaigns/helpful/reviews/",
                                 "/api/campaigns/helpful/disagreements/", "/api/campaigns/helpful/disagreements/reward/"])
@pytest.mark.parametrize("role, allowed", REVIEWERS_ONLY)
def test_only_leads_and_reviewers_read_the_queues(users_by_role, api_as, campaign, judgment, url, role, allowed):
    response = api_as(users_by_role.get(role)).get(url)
    assert response.status_code == (200 if allowed is True else allowed), response.content


@pytest.mark.parametrize("role, allowed", REVIEWERS_ONLY)
def test_only_leads_and_reviewers_review(users_by_role, api_as, campaign, judgment, role, allowed):
    response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/reviews/",
                                                    {"judgment": judgment.pk, "verdict": "reject", "note": "no"}, format="json")
    assert response.status_code == (201 if allowed is True else allowed)
    assert Review.objects.count() == (1 if allowed is True else 0)


@pytest.mark.parametrize("role, allowed", REVIEWERS_ONLY)
def test_only_leads_and_reviewers_send_tasks_back(users_by_role, api_as, campaign, judgment, role, allowed):
    response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/disagreements/send-back/",
                                                    {"task": judgment.task_id, "extra": 2}, format="json")
    assert response.status_code == (200 if allowed is True else allowed)
    assert Task.objects.get().overlap == (4 if allowed is True else 2)


@pytest.mark.parametrize("role, expected", [("lead", 201), ("engineer", 201), ("reviewer", 403), ("labeler", 403),
                                            ("outsider", 404), (None, 401)])
def test_leads_and_engineers_record_completion_scores(users_by_role, api_as, campaign, judgment, role, expected):
    body = {"scorer": "reward-r1", "scores": [{"completion": c, "score": 1.5} for c in judgment.display_order]}
    response = api_as(users_by_role.get(role)).post("/api/campaigns/helpful/completion-scores/", body, format="json")
    assert response.status_code == expected
    assert CompletionScore.objects.count() == (3 if expected == 201 else 0)
