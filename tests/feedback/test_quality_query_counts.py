"""The quality figures are read in a fixed number of queries, whatever the campaign's size."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labelhub.feedback import selectors
from tests.feedback.conftest import add_tasks, by_policy, judge_all

pytestmark = pytest.mark.django_db


def queries_of(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]], result


def judge_more(campaign, labelers, n, start):
    add_tasks(campaign, n, start=start)
    for i, user in enumerate(labelers):
        judge_all(campaign, user, by_policy("good", "fair", "poor") if i else by_policy("fair", "good", "poor"))


def test_it_computes_each_figure_in_the_same_few_queries_for_any_size(campaign, three_labelers, api_as, lead):
    counts, client = [], api_as(lead)
    for n, start in ((2, 0), (10, 2)):
        judge_more(campaign, three_labelers, n, start)
        agreement_sql, figures = queries_of(lambda: selectors.agreement_figures(campaign=campaign))
        alarm_sql, alarms = queries_of(lambda: selectors.alarm_figures(campaign=campaign))
        cache.clear()
        api_sql = {url: queries_of(lambda url=url: client.get(url))[0]
                   for url in ("/api/campaigns/helpful/agreement/", "/api/campaigns/helpful/alarms/")}
        counts.append((len(agreement_sql), len(alarm_sql), *map(len, api_sql.values())))
        assert figures["judgments"] == alarms["judgments"] == 3 * (start + n)
    assert counts[0] == counts[1], counts
    agreement_queries, alarm_queries, agreement_get, alarms_get = counts[1]
    assert agreement_queries == 3, agreement_queries  # judgments, completions' policies, policy names
    assert alarm_queries == 2, alarm_queries  # judgments, completions' lengths
    # + the token (with its user), the campaign, the roles, the judgment state before and after (the cache key)
    assert (agreement_get, alarms_get) == (agreement_queries + 5, alarm_queries + 5), counts


def test_a_repeated_get_reads_no_judgment(campaign, three_labelers, api_as, lead):
    judge_more(campaign, three_labelers, 3, 0)
    client = api_as(lead)
    first = client.get("/api/campaigns/helpful/agreement/").json()
    sql, response = queries_of(lambda: client.get("/api/campaigns/helpful/agreement/"))
    assert response.json() == first
    assert not any('"labeling_judgment"."ranking"' in q for q in sql)
    judge_more(campaign, three_labelers, 1, 3)  # a new state: new figures on the next GET
    assert client.get("/api/campaigns/helpful/agreement/").json()["judgments"] == first["judgments"] + 3
