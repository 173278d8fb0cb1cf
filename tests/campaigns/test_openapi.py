"""/api/schema/ describes the campaign and account endpoints; /api/docs/ is Swagger UI
served from drf-spectacular-sidecar, with no CDN in the page."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    """Generated once for the module: the schema does not depend on the data. Signed in (the
    schema is for users only); the reader is deleted again."""
    from django.contrib.auth import get_user_model

    with django_db_blocker.unblock():
        reader = get_user_model().objects.create_user("schema-reader")
        client = Client()
        client.force_login(reader)
        response = client.get("/api/schema/", {"format": "json"})
        reader.delete()
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def signed_in(client, make_user):
    client.force_login(make_user("reader"))
    return client


def test_it_serves_an_openapi_schema(signed_in):
    response = signed_in.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


def test_the_schema_and_the_docs_are_for_signed_in_users_only(client):
    assert client.get("/api/schema/").status_code == 401
    response = client.get("/api/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=/api/docs/")


@pytest.mark.parametrize(
    "path, methods",
    [
        ("/api/campaigns/", {"get", "post"}),
        ("/api/campaigns/{slug}/", {"get", "put", "patch", "delete"}),
        ("/api/campaigns/{campaign_slug}/members/", {"get", "post"}),
        ("/api/campaigns/{campaign_slug}/members/{id}/", {"patch", "delete"}),
        ("/api/campaigns/{campaign_slug}/invitations/", {"get"}),
        ("/api/campaigns/{campaign_slug}/invitations/{id}/", {"delete"}),
        ("/api/invitations/", {"get"}),
        ("/api/invitations/{id}/accept/", {"post"}),
        ("/api/invitations/{id}/decline/", {"post"}),
        ("/api/campaigns/{campaign_slug}/prompts/", {"get"}),
        ("/api/campaigns/{campaign_slug}/prompts/{id}/", {"get", "delete"}),
        ("/api/campaigns/{campaign_slug}/policies/", {"get", "post"}),
        ("/api/campaigns/{campaign_slug}/policies/{id}/", {"get", "put", "patch", "delete"}),
        ("/api/campaigns/{campaign_slug}/completions/", {"get", "post"}),
        ("/api/campaigns/{campaign_slug}/completions/{id}/", {"get"}),
        ("/api/campaigns/{campaign_slug}/imports/", {"get", "post"}),
        ("/api/campaigns/{campaign_slug}/imports/{id}/", {"get"}),
        ("/api/me/", {"get"}),
        ("/api/me/token/", {"post"}),
        ("/api/auth/token/", {"post"}),
    ],
)
def test_it_describes_each_endpoint(schema, path, methods):
    assert set(schema["paths"][path]) - {"parameters"} == methods


def test_it_describes_the_import_upload_and_its_errors(schema):
    operation = schema["paths"]["/api/campaigns/{campaign_slug}/imports/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Import")
    assert operation["responses"]["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/Import")
    assert operation["responses"]["400"]["description"].startswith("Nothing was written")
    assert operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


def test_it_serves_swagger_ui_from_the_sidecar(signed_in):
    response = signed_in.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    script = signed_in.get("/api/docs/", {"script": ""})  # the start-up script, a file of its own (CSP)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_it_serves_the_swagger_ui_assets(client):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200
