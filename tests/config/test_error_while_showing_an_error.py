"""An error while an error is being shown must still end the request normally, so that its
database connection goes back: in issue 14 a lone surrogate broke DEBUG's error page, the
exception escaped the ASGI handler before ``request_finished``, and after four such requests
a pool of four connections was gone and the API hung. Driven through the ASGI application
the server runs."""

import json

import pytest
from channels.testing import HttpCommunicator

from labelhub.config.asgi import application
from tests.config import broken_urls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("end_stray_connections")]


async def call(method, path, body=b"", headers=()):
    headers = [(b"host", b"127.0.0.1"), (b"content-length", str(len(body)).encode()), *headers]
    communicator = HttpCommunicator(application, method, path, body=body, headers=headers)
    # DEBUG's error page fails once per middleware layer (12 pages, each with a longer chain of
    # tracebacks): ~10 s per request on a busy 2-core machine, ~17 s under Django's ASGI handler
    response = await communicator.get_response(timeout=60)
    await communicator.wait(timeout=10)  # the request has ended (request_finished was sent)
    return response


@pytest.mark.parametrize("debug", [True, False])
async def test_a_failing_error_page_still_closes_the_requests_connection(settings, debug):
    settings.DEBUG = debug
    settings.ROOT_URLCONF = "tests.config.broken_urls"
    broken_urls.opened.clear()
    requests = 1 if debug else 2  # DEBUG's failing error page takes ~10 s a request in the suite
    for _ in range(requests):
        response = await call("GET", "/broken/")
        assert response["status"] == 500
    assert len(broken_urls.opened) == requests
    assert all(connection.connection is None for connection in broken_urls.opened)  # closed: back to the pool


@pytest.fixture
def lead_token(campaign, lead):
    """Made here, not in the async test (see tests/config/test_asgi_app.py, reader_token)."""
    from labelhub.accounts.services import token_get_or_create

    return token_get_or_create(user=lead).key


async def test_a_lone_surrogate_five_times_and_the_api_still_answers(settings, lead_token):
    """The issue's case: POST …/members/ with a surrogate in ``role``, with DEBUG on."""
    settings.DEBUG = True
    auth = [(b"authorization", f"Token {lead_token}".encode()), (b"content-type", b"application/json")]
    body = json.dumps({"username": "labeler", "role": "a\ud800b"}).encode()
    for _ in range(5):
        response = await call("POST", "/api/campaigns/helpful/members/", body, auth)
        assert response["status"] == 400
        assert [e["field"] for e in json.loads(response["body"])["errors"]] == ["role"], response["body"]
    response = await call("GET", "/api/me/", headers=auth)
    assert response["status"] == 200
