"""The dashboard hub's throttle, without a database: one computation per interval for any
number of watchers and pings, one more after the last ping, figures encoded once, the quality
feed's wait, a failed computation retried on the next ping, nothing kept without watchers."""

import asyncio
import json

import pytest

from labelhub.feedback import dashboard
from labelhub.feedback.dashboard import Feed, Hub


class Watcher:
    def __init__(self):
        self.texts = []

    async def send_figures(self, text):
        self.texts.append(text)


class Figures:
    """A computation that reads the current 'state' (a counter the pings move)."""

    def __init__(self):
        self.state = 0
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"state": self.state}


async def settle(feed):
    while feed._task is not None:
        await asyncio.sleep(0.01)


async def test_it_computes_once_per_interval_for_any_number_of_watchers_and_pings():
    figures = Figures()
    feed = Feed(figures, wait=lambda took: 0.3)
    watchers = [Watcher() for _ in range(20)]
    feed.watchers.update(watchers)
    for _ in range(50):  # a burst of judgments, each ping heard by every watcher's consumer
        figures.state += 1
        for _ in watchers:
            feed.changed()
        await asyncio.sleep(0.002)
    await settle(feed)
    assert figures.calls == 2  # at once, and once after the interval for the rest of the burst
    for watcher in watchers:
        assert [json.loads(t)["state"] for t in watcher.texts][-1] == 50
        assert len(watcher.texts) == 2
    assert watchers[0].texts[-1] is watchers[1].texts[-1]  # encoded once, the same text for all


async def test_it_computes_again_after_pings_a_server_may_have_skipped():
    figures = Figures()
    feed = Feed(figures, wait=lambda took: 0.05)
    feed.watchers.add(Watcher())
    feed.changed(cover=0.3)  # the server sends no other ping for 0.3 s
    await asyncio.sleep(0.1)
    figures.state = 7  # a judgment whose ping the server skipped
    await settle(feed)
    assert figures.calls >= 2
    assert json.loads(feed.message)["state"] == 7


async def test_a_quiet_campaign_costs_nothing():
    figures = Figures()
    feed = Feed(figures, wait=lambda took: 0.05)
    feed.watchers.add(Watcher())
    feed.changed()
    await settle(feed)
    await asyncio.sleep(0.2)
    assert figures.calls == 1


async def test_a_failed_computation_is_logged_and_the_next_ping_tries_again(caplog):
    outcomes = [RuntimeError("database gone"), {"state": 1}]

    def compute():
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    watcher = Watcher()
    feed = Feed(compute, wait=lambda took: 0.01)
    feed.watchers.add(watcher)
    feed.changed()
    await settle(feed)
    assert watcher.texts == [] and "dashboard figures could not be computed" in caplog.text
    feed.changed()
    await settle(feed)
    assert watcher.texts == ['{"state": 1}']


def test_the_quality_feed_waits_at_least_four_times_its_computing_time(settings):
    settings.LABELHUB_DASHBOARD_INTERVAL = 2
    settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL = 30
    quality, counts = Hub._feed(("quality", 1, "day")), Hub._feed(("counts", 1))
    assert (quality.wait(1.0), quality.wait(10.0), counts.wait(10.0)) == (30, pytest.approx(40.0), 2)


async def test_watchers_share_a_feed_per_campaign_and_the_last_one_leaving_drops_it(monkeypatch, settings):
    settings.LABELHUB_DASHBOARD_INTERVAL = settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL = 0.05
    monkeypatch.setattr(dashboard, "counts_message", lambda campaign_id: {"type": "counts", "campaign": campaign_id})
    monkeypatch.setattr(dashboard, "quality_message", lambda campaign_id, period: {"type": "quality", "period": period})
    hub = Hub()
    first, second, other = Watcher(), Watcher(), Watcher()
    hub.watch(first, 1, "day")
    hub.watch(other, 2, "day")
    for feed in list(hub.feeds.values()):
        await settle(feed)
    hub.watch(second, 1, "hour")  # the counts feed is shared; the hour series is a feed of its own
    await asyncio.sleep(0.05)
    for feed in list(hub.feeds.values()):
        await settle(feed)
    assert set(hub.feeds) == {("counts", 1), ("quality", 1, "day"), ("quality", 1, "hour"), ("counts", 2), ("quality", 2, "day")}
    assert hub.feeds[("counts", 1)].computations == 1  # the second watcher got the first one's figures
    assert sorted(json.loads(t)["type"] for t in second.texts) == ["counts", "quality"]
    hub.unwatch(first, 1, "day")
    hub.unwatch(second, 1, "hour")
    assert set(hub.feeds) == {("counts", 2), ("quality", 2, "day")}
