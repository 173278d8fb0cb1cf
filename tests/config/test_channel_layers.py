"""The real channel layers: PostgreSQL LISTEN/NOTIFY (the default) and Redis (with REDIS_URL)."""

import asyncio
import contextlib
import os
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

from labelhub.config.settings import CHANNEL_LAYERS as CONFIGURED_LAYERS


async def _round_trip(layer):
    channel = await layer.new_channel()
    await layer.group_add("campaign.test", channel)
    await layer.group_send("campaign.test", {"type": "progress.update", "done": 3})
    message = await layer.receive(channel)
    await layer.group_discard("campaign.test", channel)
    return message


@pytest.mark.django_db(transaction=True, databases=["default", "channels_postgres"])
def test_it_round_trips_a_group_message_through_postgresql():
    from channels_postgres.core import PostgresChannelLayer

    skip = {"CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "TEST", "ATOMIC_REQUESTS", "AUTOCOMMIT", "TIME_ZONE"}
    config = {k: v for k, v in connection.settings_dict.items() if k not in skip}
    layer = PostgresChannelLayer(**config, TIME_ZONE=None)

    async def round_trip_then_close():
        try:
            return await _round_trip(layer)
        finally:
            await _close_listener_and_pool()

    try:
        assert asyncio.run(round_trip_then_close()) == {"type": "progress.update", "done": 3}
    finally:
        # the layer holds a connection outside its pool (advisory locks); end it
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


async def _close_listener_and_pool():
    """channels-postgres keeps a LISTEN task and a module-level pool; stop both so the test
    database can be dropped."""
    from channels_postgres import db

    for task in asyncio.all_tasks():
        if task.get_coro().__qualname__.endswith("listen_to_all_channels"):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if db.connection_pool is not None:
        await db.connection_pool.close()
        db.connection_pool = None


@pytest.mark.parametrize("source", ["embedded", "url"])
def test_it_builds_the_postgresql_layer_from_either_database_setting(source):
    """get_channel_layer() returns None (silently) when the backend cannot be built."""
    from channels_postgres.core import PostgresChannelLayer

    from labelhub.config import embedded_db
    from labelhub.config import settings as project_settings

    database = (embedded_db.database_settings() if source == "embedded"
                else project_settings.database_from_url("postgresql://postgres@127.0.0.1:5432/postgres"))
    layer = PostgresChannelLayer(**database, TIME_ZONE=None, group_expiry=86400)  # as settings.CHANNEL_LAYERS
    assert layer.db_params["dbname"] == database["NAME"]


def test_it_selects_postgresql_by_default_and_redis_with_redis_url():
    expected = "channels_redis" if os.environ.get("REDIS_URL") else "channels_postgres"
    assert CONFIGURED_LAYERS["default"]["BACKEND"].startswith(expected)
    if expected == "channels_postgres":
        assert CONFIGURED_LAYERS["default"]["CONFIG"]["TIME_ZONE"] is None


def _redis_url():
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port or 6379), timeout=1).close()
    except OSError:
        if os.environ.get("LABELHUB_REQUIRE_REDIS"):
            raise
        pytest.skip(f"no Redis at {url} (CI sets LABELHUB_REQUIRE_REDIS=1 so this fails there)")
    return url


async def test_it_round_trips_a_group_message_through_redis():
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[_redis_url()], prefix="labelhub-test")
    try:
        message = await _round_trip(layer)
    finally:
        await layer.flush()
    assert message == {"type": "progress.update", "done": 3}



def test_it_gets_the_configured_layer_from_the_settings_module(settings):
    """The layer settings.py configures (not the tests' in-memory one) can be built."""
    from channels.layers import ChannelLayerManager

    settings.CHANNEL_LAYERS = CONFIGURED_LAYERS
    layer = ChannelLayerManager().make_backend("default")
    expected = "RedisChannelLayer" if os.environ.get("REDIS_URL") else "PostgresChannelLayer"
    assert type(layer).__name__ == expected
