"""The live campaign dashboard: figures computed once per campaign and interval, sent to every
watcher (``/ws/campaigns/<slug>/dashboard/``, :mod:`labelhub.feedback.consumers`).

A submit pings the campaign's channel group after it commits (``labelhub.labeling.events``,
at most once per ``LABELHUB_PROGRESS_INTERVAL`` per web process). Every dashboard consumer in
the group hears the ping and passes it to this process's :class:`Hub`, which keeps one
:class:`Feed` per figure set and campaign, whatever the number of watchers:

* ``("counts", campaign)`` — progress, judgments per hour, per labeler (five aggregate
  queries): at most once per ``LABELHUB_DASHBOARD_INTERVAL`` seconds;
* ``("quality", campaign, period)`` — agreement and bias alarms (seconds of work at 100k
  judgments, cached under the campaign's judgment state like the Quality page's): at most
  once per ``LABELHUB_DASHBOARD_QUALITY_INTERVAL`` seconds, and at least ``1/QUALITY_SHARE − 1``
  times its own last computing time apart, so a busy large campaign never keeps a core busy
  with it more than a fifth of the time.

A feed computes at once on the first ping (in a worker thread: the event loop keeps serving),
sends the one encoded message to each watcher, waits its interval, and computes again if a
ping came meanwhile, or if the last computation started before the pings a server skipped
within its progress interval were covered — so the figures always end on the true state.
Many judgments and many watchers cost one computation per interval; no ping, no work; when
the last watcher leaves, the feed is dropped.

The hub is per process (per event loop): with several web processes each computes once per
interval for the watchers it serves. The slow figures come from Django's cache keyed by the
judgment state, so with a shared cache (not the default, per-process one) a state is
computed once across processes.

Who may watch: leads and reviewers (:data:`WATCHERS`). The dashboard is about individual
labelers' work — their pace, gold answers, agreement and habits, live — which leads act on
(pausing, reinstating, talking to a labeler) and reviewers use to pick what to review.
Engineers read the campaign's figures on the Quality page, the API and snapshot metadata;
labelers see only their own work.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from labelhub.campaigns.models import Campaign, Role
from labelhub.feedback import selectors

logger = logging.getLogger(__name__)

WATCHERS = {Role.LEAD, Role.REVIEWER}
#: The most of its time a quality feed spends computing (the wait after a computation is at
#: least its duration × (1 / QUALITY_SHARE − 1)).
QUALITY_SHARE = 0.2


def counts_message(campaign_id: int) -> dict:
    campaign = Campaign.objects.get(pk=campaign_id)
    return {"type": "counts", **selectors.dashboard_counts(campaign=campaign)}


def quality_message(campaign_id: int, period: str) -> dict:
    campaign = Campaign.objects.get(pk=campaign_id)
    return {"type": "quality", **selectors.dashboard_quality(campaign=campaign, period=period)}


class Feed:
    """One set of figures of one campaign, computed for all its watchers in this process."""

    def __init__(self, compute: Callable[[], dict], wait: Callable[[float], float]):
        self.compute = compute  # sync, runs in a worker thread
        self.wait = wait  # seconds to wait after a computation that took this long
        self.watchers: set = set()
        self.message: str | None = None  # the latest figures, encoded once for all watchers
        self.computations = 0
        self._dirty = False
        self._covered_until = 0.0  # loop time by which pings skipped by a server are covered
        self._task: asyncio.Task | None = None

    def changed(self, cover: float = 0.0) -> None:
        """The figures may have changed (and servers may skip pings for ``cover`` seconds)."""
        loop = asyncio.get_running_loop()
        self._dirty = True
        self._covered_until = max(self._covered_until, loop.time() + cover)
        if self._task is None:
            self._task = loop.create_task(self._run())

    def _compute(self) -> dict:
        """In a worker thread of its own (not the one thread the consumers' database calls
        share: seconds of work must not hold them up), which keeps no connection afterwards."""
        try:
            return self.compute()
        finally:
            connection.close()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self.watchers:
                started = loop.time()
                self._dirty = False
                figures = await database_sync_to_async(self._compute, thread_sensitive=False)()
                self.computations += 1
                self.message = json.dumps(figures)
                await asyncio.gather(*(watcher.send_figures(self.message) for watcher in list(self.watchers)))
                await asyncio.sleep(self.wait(loop.time() - started))
                if not self._dirty and self._covered_until <= started:
                    break
        except asyncio.CancelledError:
            raise
        except Exception:  # the next ping tries again; the watchers keep the last figures
            logger.exception("dashboard figures could not be computed")
        finally:
            if self._task is asyncio.current_task():
                self._task = None


class Hub:
    """This event loop's feeds, by key: ``("counts", campaign_id)``, ``("quality", campaign_id, period)``."""

    def __init__(self):
        self.feeds: dict[tuple, Feed] = {}

    def watch(self, watcher, campaign_id: int, period: str) -> None:
        """Add the watcher to the campaign's feeds; it gets their latest figures at once if
        there are any, else as soon as they are computed."""
        for key in self.keys(campaign_id, period):
            feed = self.feeds.get(key)
            if feed is None:
                feed = self.feeds[key] = self._feed(key)
            feed.watchers.add(watcher)
            if feed.message is not None:
                asyncio.get_running_loop().create_task(watcher.send_figures(feed.message))
            else:
                feed.changed()

    def unwatch(self, watcher, campaign_id: int, period: str) -> None:
        for key in self.keys(campaign_id, period):
            feed = self.feeds.get(key)
            if feed is not None:
                feed.watchers.discard(watcher)
                if not feed.watchers:
                    feed.stop()
                    del self.feeds[key]

    def changed(self, campaign_id: int) -> None:
        """A ping of the campaign's group: every feed of the campaign computes again (once)."""
        for key, feed in self.feeds.items():
            if key[1] == campaign_id:
                feed.changed(cover=settings.LABELHUB_PROGRESS_INTERVAL)

    @staticmethod
    def keys(campaign_id: int, period: str) -> list[tuple]:
        return [("counts", campaign_id), ("quality", campaign_id, period)]

    @staticmethod
    def _feed(key: tuple) -> Feed:
        if key[0] == "counts":
            return Feed(lambda: counts_message(key[1]), lambda took: settings.LABELHUB_DASHBOARD_INTERVAL)
        return Feed(lambda: quality_message(key[1], key[2]),
                    lambda took: max(settings.LABELHUB_DASHBOARD_QUALITY_INTERVAL, took * (1 / QUALITY_SHARE - 1)))


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def hub() -> Hub:
    """The running event loop's hub (a server has one loop; each async test its own)."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]
