"""The ASGI application daphne serves: HTTP through Django and the schema endpoint."""

import pytest
from channels.testing import HttpCommunicator

from labelhub.config.asgi import application


async def _get(path):
    communicator = HttpCommunicator(application, "GET", path, headers=[(b"host", b"127.0.0.1")])
    return await communicator.get_response(timeout=10)


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
async def test_it_serves_the_openapi_schema():
    response = await _get("/api/schema/")
    assert response["status"] == 200
    assert b"openapi:" in response["body"]
    assert b"/api/campaigns/{campaign_slug}/imports/" in response["body"]
