"""Every response carries a Content-Security-Policy header that allows no inline code, and
no page has inline code for it to block: no <script> without src, no <style>, no style=
attribute, no on…= handler. Each page as the users who see it."""

import re

import pytest

from labelhub.campaigns.models import ImportBatch
from labelhub.training.models import Run

pytestmark = pytest.mark.django_db

INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style>"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "on…= handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def policy_of(response) -> dict:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def assert_strict(response):
    policy = policy_of(response)
    for directive in ("script-src", "style-src", "default-src"):
        assert policy[directive] == ["'self'"], (directive, policy[directive])
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


def assert_no_inline_code(response):
    html = response.content.decode()
    for pattern, what in INLINE:
        found = pattern.search(html)
        assert not found, f"{what} on {response.request['PATH_INFO']}: {html[max(found.start() - 80, 0):found.end() + 80]}"


@pytest.fixture
def run(campaign):
    return Run.objects.create(campaign=campaign, kind="reward")


def pages(run):
    slug = run.campaign.slug
    queued = ImportBatch.objects.create(campaign=run.campaign, filename="big.jsonl", format="jsonl", state="queued")
    return [
        "/campaigns/", f"/campaigns/{slug}/", f"/campaigns/{slug}/import/", f"/campaigns/{slug}/imports/{queued.pk}/",
        f"/campaigns/{slug}/runs/",
        f"/campaigns/{slug}/runs/{run.pk}/", f"/campaigns/{slug}/snapshots/", f"/campaigns/{slug}/leaderboard/",
        "/label/", f"/label/work/?campaign={slug}", "/profile/", "/api/docs/", f"/campaigns/{slug}/members/",
        "/invitations/", f"/campaigns/{slug}/dashboard/",
    ]


def test_every_page_has_a_strict_policy_and_no_inline_code(client, lead, run):
    from labelhub.campaigns.services import invitation_create

    invitation_create(campaign=run.campaign, invited_by=lead, name="someone", by_email=False, role="labeler")
    invitation_create(campaign=run.campaign, invited_by=lead, name="lead", by_email=False, role="engineer")
    client.force_login(lead)
    for path in pages(run):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert_no_inline_code(response)


def test_the_labeling_page_allows_only_dompurifys_trusted_types(client, labeler, campaign):
    client.force_login(labeler)
    policy = policy_of(client.get("/label/work/"))
    assert policy["require-trusted-types-for"] == ["'script'"] and policy["trusted-types"] == ["dompurify"]
    assert policy["script-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/login/", "/admin/login/", "/no-such-page/", "/api/campaigns/", "/api/schema/",
                                  "/api/docs/?script=", "/static/css/app.css"])
def test_other_responses_carry_it_too(client, lead, path):
    if "login" not in path:
        client.force_login(lead)
    response = client.get(path)
    assert response.status_code in (200, 404), path
    assert_strict(response)
    if response["Content-Type"].startswith("text/html"):
        assert_no_inline_code(response)


def test_the_admin_has_no_inline_code(admin_client):
    for path in ["/admin/", "/admin/accounts/user/", "/admin/campaigns/campaign/add/"]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert_strict(response)
        assert_no_inline_code(response)
