"""pytest plugin (``-p labelhub.config.pytest_plugin`` in pyproject.toml), loaded before Django.

Tests run with DEBUG on (no SECRET_KEY needed), offline for model hubs, and — when
DATABASE_URL is unset — on the embedded PostgreSQL, started once for the session and stopped
when pytest exits.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def pytest_configure(config):
    from labelhub.config import embedded_db

    embedded_db.ensure_running_unless_configured()
