"""One Chromium per test process, shared by the browser tests one after another; each test gets
fresh browser contexts (their own cookies, storage and cache), closed when it ends.

Starting Playwright's driver and Chromium took ~0.7 s a test. Playwright's sync API runs an
event loop in this thread, which trips Django's async-safety check, so DJANGO_ALLOW_ASYNC_UNSAFE
is set exactly while the browser is up: tests/conftest.py closes it before any test that is not
a browser test (pytest_runtest_setup), after the last of a run of browser tests, before its
fixtures end (pytest_runtest_teardown), and at the end of the session."""

import os
from pathlib import Path

import pytest

CHROMIUM_CANDIDATES = [os.environ.get("CHROMIUM_PATH", ""), "/usr/lib/chromium/chromium", "/usr/bin/chromium"]
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

_playwright = None  # the sync_playwright() context manager while the browser is up
_browser = None


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    pytest.fail("Chromium not found: install Debian's package (apt-get install -y chromium) — `make test` does")


def shared_browser():
    """The process's Chromium, started on first use (again if it has gone)."""
    global _playwright, _browser
    if _browser is not None and not _browser.is_connected():
        close()
    if _browser is None:
        from playwright.sync_api import sync_playwright

        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        _playwright = sync_playwright()
        try:
            _browser = _playwright.__enter__().chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        except BaseException:
            close()
            raise
    return _browser


def close() -> None:
    """Close the browser and Playwright, if up; Django's async-safety check is back on."""
    global _playwright, _browser
    browser, manager, _browser, _playwright = _browser, _playwright, None, None
    try:
        if browser is not None and browser.is_connected():
            browser.close()
    finally:
        try:
            if manager is not None:
                manager.__exit__(None, None, None)
        finally:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def close_contexts(browser) -> None:
    """End of a test: every context it opened goes, with its pages, cookies and storage."""
    if browser.is_connected():  # closed already when it was the last browser test
        for context in list(browser.contexts):
            context.close()
