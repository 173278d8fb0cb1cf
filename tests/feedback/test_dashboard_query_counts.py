"""Each of the dashboard's figures is read in a fixed number of queries, whatever the
campaign's size; the figures the hub sends and the API's answer too."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelhub.feedback import dashboard, selectors
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db


def queries_of(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])


def judge_more(campaign, labelers, n, start):
    add_tasks(campaign, n, start=start)
    for i, user in enumerate(labelers):
        judge_all(campaign, user, by_policy("good", "fair", "poor") if i else by_policy("fair", "good", "poor"))


FIGURES = {
    "progress": lambda c: selectors.campaign_progress(campaign_id=c.pk),
    "per_hour": lambda c: selectors.judgments_per_hour(campaign=c, now=datetime.now(UTC)),
    "labelers": lambda c: selectors.labeler_activity(campaign=c, now=datetime.now(UTC)),
    "gold": lambda c: selectors.gold_by_labeler(campaign=c),
    "counts": lambda c: selectors.dashboard_counts(campaign=c),
    "agreement (no cache)": lambda c: selectors.agreement_figures(campaign=c),
    "alarms (no cache)": lambda c: selectors.alarm_figures(campaign=c),
    "quality (cold)": lambda c: (cache.clear(), selectors.dashboard_quality(campaign=c)),
    "quality (warm)": lambda c: selectors.dashboard_quality(campaign=c),
    "counts message": lambda c: dashboard.counts_message(c.pk),
    "quality message (warm)": lambda c: dashboard.quality_message(c.pk, "day"),
}
EXPECTED = {"progress": 1, "per_hour": 1, "labelers": 2, "gold": 4, "counts": 8, "agreement (no cache)": 3,
            "alarms (no cache)": 2, "quality (cold)": 9, "quality (warm)": 2,
            "counts message": 9, "quality message (warm)": 3}


def test_it_computes_each_figure_in_the_same_few_queries_for_any_size(campaign, three_labelers):
    counts = []
    for n, start in ((2, 0), (10, 2)):
        judge_more(campaign, three_labelers, n, start)
        counts.append({name: queries_of(lambda fn=fn: fn(campaign)) for name, fn in FIGURES.items()})
    assert counts[0] == counts[1] == EXPECTED, counts


def test_the_api_reads_a_fixed_number_of_queries(campaign, three_labelers, api_as, lead, django_assert_max_num_queries):
    client = api_as(lead)
    sizes = []
    for n, start in ((2, 0), (10, 2)):
        judge_more(campaign, three_labelers, n, start)
        cache.clear()
        # the token (with its user), the campaign, the roles + the counts (8) + the quality, cold (9)
        with django_assert_max_num_queries(3 + 8 + 9) as cold:
            assert client.get("/api/campaigns/helpful/dashboard/").status_code == 200
        with django_assert_max_num_queries(3 + 8 + 2) as warm:  # nothing changed: the quality from the cache
            assert client.get("/api/campaigns/helpful/dashboard/").status_code == 200
        sizes.append((len(cold.captured_queries), len(warm.captured_queries)))
    assert sizes[0] == sizes[1] == (20, 13), sizes
