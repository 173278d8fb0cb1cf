"""Shared fixtures: one user per role in one campaign, plus an outsider."""

import os
import sys

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from labelhub.campaigns import services
from labelhub.campaigns.models import Campaign, Role


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """Ordinary tests use the in-memory layer; the PostgreSQL/Redis layers have their own tests."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture(autouse=True)
def _own_data_dir(settings, tmp_path):
    """Each test gets an empty data directory: what earlier runs left in var/data (run folders,
    snapshots) must not change what a test sees. Tests that need one of their own set it again."""
    settings.LABELHUB_DATA_DIR = tmp_path / "labelhub-data"


@pytest.fixture(autouse=True)
def _progress_unthrottled(settings):
    """Every submit pings the dashboards and each ping is counted (the throttle has its own tests)."""
    settings.LABELHUB_PROGRESS_INTERVAL = 0


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's work factor costs ~0.5 s per user; tests need no protection against cracking."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _one_share_of_the_cores():
    """Under pytest-xdist the workers share the cores: each worker's trainers (its subprocesses
    and the trainer code tests call in-process) get its share of the threads, at least one. With
    a thread per core in each worker, two trainers side by side ran several times slower."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if "PYTEST_XDIST_WORKER" not in os.environ or workers < 2:
        yield
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    share = max(1, cores // workers)
    before = django_settings.LABELHUB_TRAINER_THREADS
    django_settings.LABELHUB_TRAINER_THREADS = share
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(share)
    else:  # read when torch is first imported; no need to import it (seconds) for tests that do not
        os.environ["OMP_NUM_THREADS"] = str(share)
    yield
    django_settings.LABELHUB_TRAINER_THREADS = before


@pytest.fixture
def make_user(django_user_model):
    def make(username, password="pw-for-tests-123"):
        return django_user_model.objects.create_user(username=username, password=password)

    return make


@pytest.fixture
def lead(make_user):
    return make_user("lead")


@pytest.fixture
def labeler(make_user):
    return make_user("labeler")


@pytest.fixture
def reviewer(make_user):
    return make_user("reviewer")


@pytest.fixture
def engineer(make_user):
    return make_user("engineer")


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture
def campaign(lead, labeler, reviewer, engineer):
    campaign = services.campaign_create(
        user=lead,
        name="Helpful answers",
        slug="helpful",
        task_kind=Campaign.TaskKind.RANK,
        completions_per_task=3,
        overlap=2,
        rating_axes=[{"name": "helpfulness", "min": 1, "max": 5}],
        flag_vocabulary=["unsafe", "wrong"],
        guidelines="Rank the **most helpful** answer first.",
        status=Campaign.Status.ACTIVE,
    )
    services.membership_add(campaign=campaign, user=labeler, role=Role.LABELER)
    services.membership_add(campaign=campaign, user=reviewer, role=Role.REVIEWER)
    services.membership_add(campaign=campaign, user=engineer, role=Role.ENGINEER)
    return campaign


@pytest.fixture
def users_by_role(lead, labeler, reviewer, engineer, outsider):
    return {"lead": lead, "labeler": labeler, "reviewer": reviewer, "engineer": engineer, "outsider": outsider}


@pytest.fixture
def api_as():
    """``api_as(user)`` → an APIClient authenticated with the user's API token."""
    from labelhub.accounts.services import token_get_or_create

    def make(user):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {token_get_or_create(user=user).key}")
        return client

    return make



@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database commits without waiting for its WAL to reach the disk
    (synchronous_commit off, for every session that connects to it: the suite's, live servers',
    workers' and trainers'). A crash of the machine's PostgreSQL could lose the last commits of a
    database that is thrown away anyway; nothing else changes. The tests about durability run
    their own throwaway clusters (tests/faults). Measured in docs/benchmarks.md, "Test suite"."""
    if os.environ.get("LABELHUB_TEST_SYNCHRONOUS_COMMIT", "off") == "off":
        from django.db import connection

        with django_db_blocker.unblock():
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER DATABASE "{connection.settings_dict["NAME"]}" SET synchronous_commit = off')
            connection.close()  # the next connection starts with the setting
    return django_db_setup


#: Kept across transactional tests (see _empty_the_tables): the rows post_migrate makes for every
#: model, which flush would delete and post_migrate make again, the same rows under new ids.
KEPT_TABLES = frozenset({"django_content_type", "auth_permission"})


def _empty_the_tables(test_case) -> None:
    """A transactional test's teardown: every table emptied, as Django's ``flush`` does, but with
    DELETE instead of one TRUNCATE of all ~50 tables. TRUNCATE gives each table and index a new
    file, ~0.25 s whatever the tables hold; DELETE on the few rows a test wrote takes a few ms
    (Django's foreign keys are deferrable: checked once, at the commit, on empty tables).
    Measured in docs/benchmarks.md, "Test suite". Content types and permissions stay, so
    post_migrate, which would make them again, is not needed."""
    from django.db import connections, transaction

    for alias in test_case._databases_names(include_mirrors=False):
        connection = connections[alias]
        tables = sorted(set(connection.introspection.django_table_names(only_existing=True, include_views=False)) - KEPT_TABLES)
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")


@pytest.fixture(scope="session", autouse=True)
def _transactional_teardown_by_delete():
    """Transactional tests end with _empty_the_tables instead of flush, unless a test asks for
    what only flush does (available_apps, serialized_rollback, reset_sequences: none here now)."""
    from django.test import TransactionTestCase

    flush = TransactionTestCase._fixture_teardown

    def teardown(self):
        if self.available_apps is not None or self.serialized_rollback or self.reset_sequences:
            return flush(self)
        return _empty_the_tables(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TransactionTestCase, "_fixture_teardown", teardown)
        yield


@pytest.fixture(scope="session")
def end_stray_connections(django_db_setup, django_db_blocker):
    """Live-server threads can leave idle connections to the test database; end them before
    pytest-django drops it, so the drop never fails on 'other sessions'. Used by tests/e2e."""
    yield
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _close_chromium() -> None:
    chromium = sys.modules.get("tests.e2e.chromium")
    if chromium is not None:
        chromium.close()


def pytest_runtest_setup(item):
    """The browser tests share one Chromium per process (tests/e2e/chromium.py), up from the
    first of them; it is closed before any other test, so that Django's async-safety check,
    off while it is up, is on for every test that is not a browser test."""
    if item.get_closest_marker("browser") is None:
        _close_chromium()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last browser test of a run of them, Chromium is closed before the test's
    fixtures end: with the last test of the session they include the test database, and
    Playwright's event loop in this thread would keep Django from closing its connection to it."""
    if nextitem is None or nextitem.get_closest_marker("browser") is None:
        _close_chromium()
    return (yield)


def pytest_sessionfinish(session):
    _close_chromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Captured output may hold lone surrogates (tests send them on purpose, and the error log
    repeats them); pytest-xdist cannot ship such text from a worker, so it is escaped here."""
    report = yield
    report.sections = [(title, _storable(text)) for title, text in report.sections]
    return report


def _storable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


#: Longest first, so that with several workers the minutes-long tests start at once and the
#: short ones fill in around them. make test runs pytest-xdist with ``--maxschedchunk 1``: each
#: worker starts with two tests and takes the next one whenever it finishes one, so the loop
#: tests are interleaved with short ones — a worker's first pair holds one loop test, and the
#: third goes to whichever worker is free first, not queued behind another loop test.
_ORDER = {"loop": 0, "trainer": 1, "fault": 1, "fuzz": 2, "browser": 3}


def pytest_collection_modifyitems(items):
    def rank(item):
        return min((_ORDER[m.name] for m in item.iter_markers() if m.name in _ORDER), default=len(_ORDER))

    items.sort(key=rank)  # stable: within a rank, the files keep their order
    longest = [item for item in items if rank(item) == 0]
    rest = items[len(longest):]
    interleaved = []
    for n, item in enumerate(longest):
        interleaved += [item, *rest[n:n + 1]]
    items[:] = interleaved + rest[len(longest):]


@pytest.fixture(autouse=True)
def _no_jobs_left_behind(request, django_db_blocker):
    """procrastinate's tables are not Django models the test database flushes, so the jobs a
    transactional test deferred would outlive it and show up in later tests' counts (with two
    workers, in whichever test comes next). They are removed after such a test."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "transactional_db" in request.fixturenames
    if not transactional:
        return
    from django.db import connection

    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # DELETE, not TRUNCATE (~0.03 s whatever they hold); the rows that reference a job go first
        for table in ("procrastinate_periodic_defers", "procrastinate_events", "procrastinate_jobs"):
            cursor.execute(f"DELETE FROM {table}")
