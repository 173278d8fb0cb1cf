"""Schemathesis over the OpenAPI schema drf-spectacular makes, against the real application
(Django's handler with our middleware, URLs and views) on PostgreSQL: for every operation,
valid and invalid requests (bodies, query and path parameters) signed in as the campaign's
lead, and no answer may be a 500 or differ from what the schema declares.

Bounded (``FUZZ_EXAMPLES`` per operation, deterministic) to stay within about two minutes on
two cores: ``pytest -m fuzz``. Requests go through Django's WSGI handler in the test's
thread, so each operation's data is rolled back with its test.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from labelhub.accounts.services import token_get_or_create
from labelhub.campaigns.models import Policy
from labelhub.labeling import services as labeling
from tests.labeling.conftest import add_prompts

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
#: Path parameters that name a campaign are pointed at the fixture campaign (others are fuzzed).
SLUGS = {"slug", "campaign_slug"}


def load_schema():
    """The schema /api/schema/ serves (same generator, same hooks), made once at collection:
    one test per operation."""
    from drf_spectacular.generators import SchemaGenerator

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = get_wsgi_application()  # the calls go to Django's handler in this thread
    return loaded


schema = load_schema()


@pytest.fixture
def token(campaign, lead, labeler):
    """The lead's token, and content to act on: prompts, completions, tasks, a lease."""
    add_prompts(campaign, 3)
    Policy.objects.get_or_create(campaign=campaign, name="base")
    labeling.tasks_create(campaign=campaign)
    labeling.next_task(labeler=labeler, campaign=campaign)
    # as Django's test client does: the test's transaction must outlive each request
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield token_get_or_create(user=lead).key
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_500_or_off_schema(case, token):
    for name in SLUGS & set(case.path_parameters or {}):
        case.path_parameters[name] = "helpful"
    response = case.call(headers={"Authorization": f"Token {token}"})
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
