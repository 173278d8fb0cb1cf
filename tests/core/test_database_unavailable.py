"""A request whose database connection is gone answers 503 with Retry-After — a transient
state the labeling page and API clients retry — not a 500 that reads like a bug. The
connection is really cut: PostgreSQL terminates the backend the request is about to use
(Django's test client keeps connections between requests, as a pooled server does)."""

import psycopg
import pytest
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def cut_the_connection() -> None:
    connection.ensure_connection()
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def cut():
    yield cut_the_connection
    connection.close()  # the broken connection goes; the next query opens a new one


def test_the_api_answers_503_with_retry_after_in_its_error_shape(api_as, labeler, campaign, cut):
    client = api_as(labeler)
    assert client.get("/api/me/").status_code == 200
    cut()
    response = client.get(f"/api/labeling/next/?campaign={campaign.slug}")
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "The database cannot be reached right now; try again in a few seconds.",
                               "code": "database_unavailable", "errors": []}


def test_a_page_answers_a_503_page_that_reloads_itself(client, lead, campaign, cut):
    client.force_login(lead)
    assert client.get(f"/campaigns/{campaign.slug}/").status_code == 200
    cut()
    response = client.get(f"/campaigns/{campaign.slug}/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5" and response["Content-Type"].startswith("text/html")
    assert b"Try again in a moment" in response.content and b'http-equiv="refresh"' in response.content


def test_it_recovers_by_itself_once_the_database_is_back(api_as, labeler, campaign, cut):
    client = api_as(labeler)
    cut()
    assert client.get("/api/me/").status_code == 503
    connection.close()  # what the server's request_finished does with a connection that errored
    assert client.get("/api/me/").status_code == 200


def test_other_errors_stay_500():
    """Only an unreachable database is a 503: a bug in a query is still a logged 500."""
    from django.db import ProgrammingError

    from labelhub.core.errors import database_unavailable

    assert not database_unavailable(ProgrammingError("relation does not exist"))
    assert not database_unavailable(ValueError())
