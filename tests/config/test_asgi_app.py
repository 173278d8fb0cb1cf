"""The ASGI application the server runs: HTTP through Django's middleware, static files, the schema."""

import pytest
from channels.testing import HttpCommunicator

from labelhub.config.asgi import application


@pytest.fixture
def reader_token(make_user):
    """Made here, not in the async test: a query from sync_to_async there would leave a
    connection open in asgiref's shared thread for later tests to trip over."""
    from labelhub.accounts.services import token_get_or_create

    return token_get_or_create(user=make_user("reader")).key


async def _get(path):
    return await _request("GET", path)


async def _request(method, path, body=b"", headers=()):
    communicator = HttpCommunicator(application, method, path, body=body,
                                    headers=[(b"host", b"127.0.0.1"), *headers])
    return await communicator.get_response(timeout=10)


@pytest.mark.django_db(transaction=True)
async def test_every_middleware_still_acts_on_a_request():
    response = await _get("/login/")
    headers = dict(response["headers"])
    assert headers[b"X-Frame-Options"] == b"DENY"  # clickjacking
    assert headers[b"X-Content-Type-Options"] == b"nosniff"  # security
    assert b"csrftoken=" in b" ".join(v for k, v in response["headers"] if k == b"Set-Cookie")  # csrf
    refused = await _request("POST", "/login/", body=b"username=x&password=y",
                             headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    assert refused["status"] == 403  # no CSRF token: refused before the view


@pytest.fixture
def snapshot_download(tmp_path, campaign, lead):
    """A ready snapshot of ~200 KiB, its URL and a lead's token (made here, see reader_token)."""
    from labelhub.accounts.services import token_get_or_create
    from labelhub.feedback.models import Snapshot

    data = b"".join(b'{"prompt": "p%06d", "chosen": "a", "rejected": "b"}\n' % i for i in range(4000))
    (tmp_path / "data.jsonl").write_bytes(data)
    snapshot = Snapshot.objects.create(campaign=campaign, version=1, state=Snapshot.State.READY, path=str(tmp_path))
    return f"/api/campaigns/helpful/snapshots/{snapshot.pk}/download/", token_get_or_create(user=lead).key, data


async def _streamed(path, headers=()):
    """The response start, its body messages and the warnings raised meanwhile (HttpCommunicator
    cannot read a streamed body: its last message has none)."""
    import warnings

    from asgiref.testing import ApplicationCommunicator

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), *headers], "http_version": "1.1", "scheme": "http",
             "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 1234)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": b""})
        start = await communicator.receive_output(timeout=10)
        parts = []
        while True:
            message = await communicator.receive_output(timeout=10)
            parts.append(message.get("body", b""))  # the last message may have no body
            if not message.get("more_body"):
                break
    return start, [p for p in parts if p], [str(w.message) for w in caught]


@pytest.mark.django_db(transaction=True)
async def test_it_streams_a_snapshot_download_in_chunks_without_reading_it_whole(snapshot_download):
    """Django's handler reads a sync iterator (FileResponse) whole first, with a warning; the
    download is an async iterator and goes out in 64 KiB body messages."""
    path, token, data = snapshot_download
    start, parts, warned = await _streamed(path, [(b"authorization", f"Token {token}".encode())])
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert headers[b"Content-Length"] == str(len(data)).encode()
    assert headers[b"Content-Disposition"] == b'attachment; filename="helpful-v1-preference.jsonl"'
    assert b"".join(parts) == data
    assert len(parts) == -(-len(data) // 65536)
    assert not [w for w in warned if "iterators" in w]


@pytest.mark.django_db(transaction=True)
async def test_it_serves_static_files():
    """WhiteNoise's files are sync iterators: Django's handler reads them whole (a few hundred
    KiB at most) and says so in a warning."""
    from django.conf import settings

    path = settings.BASE_DIR / "frontend" / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
    start, parts, _ = await _streamed("/static/vendor/chart.js/chart.umd.min.js")
    assert start["status"] == 200
    assert b"".join(parts) == path.read_bytes()


@pytest.mark.django_db(transaction=True)
async def test_it_serves_the_root_as_a_redirect_to_login():
    response = await _get("/")
    assert response["status"] == 302
    assert dict(response["headers"])[b"Location"].startswith(b"/login/")


@pytest.mark.django_db(transaction=True)
async def test_it_serves_the_login_page():
    response = await _get("/login/")
    assert response["status"] == 200
    assert b"Sign in" in response["body"]


@pytest.mark.django_db(transaction=True)
async def test_it_serves_the_openapi_schema(reader_token):
    response = await _request("GET", "/api/schema/", headers=[(b"authorization", f"Token {reader_token}".encode())])
    assert response["status"] == 200
    assert b"openapi:" in response["body"]
    assert b"/api/campaigns/{campaign_slug}/imports/" in response["body"]
