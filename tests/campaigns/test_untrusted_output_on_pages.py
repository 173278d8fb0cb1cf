"""Model output, prompts and import file names are untrusted: on the campaign detail page a
completion carrying script, an event handler or a javascript: link is inert."""

import re

import pytest

from labelhub.campaigns import services
from labelhub.campaigns.models import Completion, ImportBatch, Policy, Prompt, content_hash

pytestmark = pytest.mark.django_db

URL = "/campaigns/helpful/"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
LINK = "[x](javascript:alert(1))"
JAVASCRIPT_HREF = re.compile(r"""<[^>]*\shref\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


@pytest.fixture
def hostile_completions(prompt, policy):
    for text in [SCRIPT, IMG, LINK, f"Sure! {SCRIPT} {IMG} {LINK}"]:
        Completion.objects.create(prompt=prompt, policy=policy, text=text, content_hash=content_hash(text))


def test_it_renders_hostile_completions_inert(page_as, hostile_completions):
    html = page_as("reviewer").get(URL).content.decode()
    assert SCRIPT not in html
    assert "<img" not in html
    assert not JAVASCRIPT_HREF.search(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_escapes_hostile_prompts_and_chat_turns(page_as, campaign):
    Prompt.objects.create(campaign=campaign, text=SCRIPT, content_hash=content_hash(SCRIPT))
    messages = [{"role": "user", "content": IMG}]
    Prompt.objects.create(campaign=campaign, messages=messages, content_hash=content_hash(messages))
    html = page_as("engineer").get(URL).content.decode()
    assert SCRIPT not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_it_escapes_hostile_names(page_as, campaign, lead):
    Policy.objects.create(campaign=campaign, name=SCRIPT, base_model=IMG)
    ImportBatch.objects.create(campaign=campaign, uploaded_by=lead, filename=f"{IMG}.jsonl", format="jsonl")
    services.campaign_update(campaign=campaign, name=SCRIPT)
    html = page_as("lead").get(URL).content.decode()
    assert SCRIPT not in html
    assert "<img" not in html
    assert "<h1>&lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html


def test_it_renders_hostile_guidelines_inert_for_labelers(page_as, campaign):
    services.campaign_update(campaign=campaign, guidelines=f"{SCRIPT}\n\n{IMG}\n\n{LINK}")
    html = page_as("labeler").get(URL).content.decode()
    assert SCRIPT not in html
    assert "<img" not in html
    assert not JAVASCRIPT_HREF.search(html)


def test_it_renders_hostile_imported_completions_inert(page_as, campaign, upload):
    content = '{"prompt": "Hi", "completions": ["<script>alert(1)</script>", "[x](javascript:alert(1))"]}\n'
    page_as("lead").post("/campaigns/helpful/import/", {"file": upload("b.jsonl", content)})
    html = page_as("lead").get(URL).content.decode()
    assert Completion.objects.count() == 2
    assert SCRIPT not in html
    assert not JAVASCRIPT_HREF.search(html)
