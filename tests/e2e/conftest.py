"""Playwright driving Debian's Chromium (never Playwright's own download) against the
project's ASGI application served by uvicorn in a thread of the test process, on the test
database — the production stack (HTTP, WebSockets, static files), not pytest-django's WSGI
live server.

One Chromium per test process (tests/e2e/chromium.py: Playwright's sync API runs an event loop
in this thread, which trips Django's async-safety check; DJANGO_ALLOW_ASYNC_UNSAFE is set only
while the browser is up); each test gets fresh contexts, closed when it ends.
"""

import asyncio
import socket
import threading
import time

import pytest

from tests.e2e.chromium import close_contexts, shared_browser


@pytest.fixture
def asgi_server_and_loop(transactional_db, end_stray_connections):
    """(port, event loop) of uvicorn serving ``labelhub.config.asgi:application`` (as ``make
    demo`` does) in a thread of its own."""
    import uvicorn

    from labelhub.config.asgi import application

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    server = uvicorn.Server(uvicorn.Config(application, lifespan="off", log_level="warning"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(sockets=[listener]),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield listener.getsockname()[1], loop
    finally:
        server.should_exit = True
        thread.join(10)
        loop.close()
        listener.close()


@pytest.fixture
def asgi_server(asgi_server_and_loop):
    """The port of uvicorn serving ``labelhub.config.asgi:application``."""
    return asgi_server_and_loop[0]


@pytest.fixture
def on_server(asgi_server_and_loop):
    """``on_server(coroutine)`` → a concurrent Future: the coroutine runs in the server's event
    loop, as a training job's work would in a worker — its broadcasts reach the server's
    WebSocket consumers through the channel layer, as in production."""
    loop = asgi_server_and_loop[1]
    return lambda coroutine: asyncio.run_coroutine_threadsafe(coroutine, loop)


@pytest.fixture
def browser(asgi_server_and_loop):
    """The process's Chromium (tests/e2e/chromium.py); the contexts a test opens are closed
    when it ends, before the server stops."""
    browser = shared_browser()
    try:
        yield browser
    finally:
        close_contexts(browser)


@pytest.fixture
def browser_page(browser, asgi_server):
    """A page in a fresh context (no cookies), its dialogs dismissed and kept in ``page.dialogs``."""
    context = browser.new_context(base_url=f"http://127.0.0.1:{asgi_server}")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(10_000)
    return page


@pytest.fixture
def log_in(browser_page):
    def log_in(username, password):
        browser_page.goto("/login/")
        browser_page.get_by_label("Username").fill(username)
        browser_page.get_by_label("Password").fill(password)
        browser_page.get_by_role("button", name="Sign in").click()
        browser_page.wait_for_load_state()
        return browser_page

    return log_in
