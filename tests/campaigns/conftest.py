"""Campaign content for the campaign tests: a second campaign the role fixtures are not in,
a policy, a prompt with one completion, and uploads."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labelhub.campaigns import services
from labelhub.campaigns.models import Completion, Policy, Prompt, content_hash

#: What the API answers a client without credentials: TokenAuthentication comes first in
#: REST_FRAMEWORK and names itself in WWW-Authenticate, so DRF says 401 rather than 403.
ANON = 401

#: Every role fixture plus a client that is not signed in (``users_by_role`` has no entry).
ROLES = ["lead", "labeler", "reviewer", "engineer", "outsider", "anonymous"]


def role_cases(expected: dict[str, int]):
    """``[(role, status), …]`` in a fixed order, so each role is its own visible test case."""
    assert set(expected) == set(ROLES), f"give a status for every role: {sorted(set(ROLES) - set(expected))}"
    return [(role, expected[role]) for role in ROLES]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Each role fixture hashes a password; the production hasher takes ~0.5 s per user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client_as(users_by_role, api_as):
    """``client_as(role)`` → an API client for that role's user (anonymous for ``"anonymous"``)."""
    return lambda role: api_as(users_by_role.get(role))


@pytest.fixture
def page_as(users_by_role, client):
    """``page_as(role)`` → the Django test client signed in as that role's user."""

    def make(role):
        user = users_by_role.get(role)
        if user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def other_campaign(outsider):
    """A campaign led by the outsider, so no other role fixture is a member of it."""
    return services.campaign_create(user=outsider, name="Someone else's", slug="elsewhere")


@pytest.fixture
def policy(campaign):
    return Policy.objects.create(campaign=campaign, name="base-v1", base_model="tiny-gpt")


@pytest.fixture
def prompt(campaign):
    return Prompt.objects.create(campaign=campaign, text="Explain recursion", content_hash=content_hash("Explain recursion"))


@pytest.fixture
def completion(prompt, policy):
    text = "Recursion is when a function calls itself."
    return Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))


def written(campaign) -> dict[str, int]:
    """What an import can write to a campaign, counted: compare before and after a refusal."""
    return {
        "prompts": campaign.prompts.count(),
        "policies": campaign.policies.count(),
        "completions": Completion.objects.filter(prompt__campaign=campaign).count(),
        "imports": campaign.imports.count(),
    }


@pytest.fixture
def upload():
    """``upload(name, content)`` → an uploaded file; ``content`` may be str or bytes."""

    def make(name, content):
        data = content.encode("utf-8") if isinstance(content, str) else content
        return SimpleUploadedFile(name, data, content_type="application/octet-stream")

    return make


def prompts_jsonl(n: int, bad: dict[int, str] | None = None) -> str:
    """``n`` lines of prompts with a completion each; ``bad`` replaces some lines (1-based)."""
    lines = [json.dumps({"prompt": f"Question {i}?", "completions": [{"text": f"Answer {i}.", "policy": "base"}]})
             for i in range(1, n + 1)]
    for number, line in (bad or {}).items():
        lines[number - 1] = line
    return "\n".join(lines) + "\n"


def pairs_jsonl(n: int, bad: dict[int, str] | None = None) -> str:
    """``n`` lines of pre-judged pairs; ``bad`` replaces some lines (1-based)."""
    lines = [json.dumps({"prompt": f"Say hi {i}", "chosen": f" Hi {i}!", "rejected": " Go away."}) for i in range(n)]
    for number, line in (bad or {}).items():
        lines[number - 1] = line
    return "\n".join(lines) + "\n"


@pytest.fixture
def post_file(client_as, campaign, upload):
    """``post_file(content, name=…, url=…, role=…)`` → an upload to an import endpoint (as the lead by default)."""

    def post(content, name="prompts.jsonl", url="/api/campaigns/helpful/imports/", role="lead"):
        return client_as(role).post(url, {"file": upload(name, content)}, format="multipart")

    return post
