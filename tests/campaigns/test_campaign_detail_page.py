"""/campaigns/<slug>/: guidelines for every member; prompts, completions, policies and
members for leads, reviewers and engineers; 404 for anyone else."""

import pytest

from labelhub.campaigns.models import Completion, Prompt, content_hash
from tests.campaigns.conftest import role_cases

pytestmark = pytest.mark.django_db

URL = "/campaigns/helpful/"


@pytest.mark.parametrize(
    "role, status",
    role_cases({"lead": 200, "labeler": 200, "reviewer": 200, "engineer": 200, "outsider": 404, "anonymous": 302}),
)
def test_it_shows_the_campaign_to_its_members(page_as, campaign, role, status):
    response = page_as(role).get(URL)
    assert response.status_code == status
    if status == 200:
        assert b"<h1>Helpful answers</h1>" in response.content
        assert b"Rank the <strong>most helpful</strong> answer first." in response.content
    if role == "anonymous":
        assert response["Location"] == f"/login/?next={URL}"


@pytest.mark.parametrize("role, sees_content", [("lead", True), ("labeler", False), ("reviewer", True), ("engineer", True)])
def test_it_shows_prompts_completions_and_members_to_content_readers(page_as, completion, role, sees_content):
    html = page_as(role).get(URL).content.decode()
    shown = [
        "Explain recursion" in html,
        completion.text in html,
        "base-v1" in html,
        "labeler <span class=\"badge\">Labeler</span>" in html,
    ]
    assert shown == [sees_content] * 4
    assert ("Labelers see this campaign's completions in their tasks." in html) == (not sees_content)


@pytest.mark.parametrize("role, sees_link", [("lead", True), ("reviewer", False), ("engineer", False)])
def test_it_offers_the_import_form_to_leads(page_as, campaign, role, sees_link):
    response = page_as(role).get(URL)
    assert (b'href="/campaigns/helpful/import/"' in response.content) == sees_link


def test_it_shows_chat_prompts_turn_by_turn(page_as, campaign):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
    Prompt.objects.create(campaign=campaign, messages=messages, content_hash=content_hash(messages))
    html = page_as("reviewer").get(URL).content.decode()
    assert '<li class="turn turn-system"><span class="role">system</span><div class="text markdown"><p>Be brief.</p>\n</div></li>' in html
    assert '<li class="turn turn-user"><span class="role">user</span><div class="text markdown"><p>Hi!</p>\n</div></li>' in html


def test_it_renders_prompts_as_sanitized_markdown_keeping_code_indentation(page_as, campaign):
    text = "Fix **this**:\n\n```python\ndef f():\n    return 1\n```\n\n<script>alert(1)</script> and $x^2$"
    Prompt.objects.create(campaign=campaign, text=text, content_hash=content_hash(text))
    html = page_as("reviewer").get(URL).content.decode()
    assert "<p>Fix <strong>this</strong>:</p>" in html
    assert '<pre><code class="language-python">def f():\n    return 1\n</code></pre>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert '<span class="math inline">x^2</span>' in html  # typeset in the browser (app/markdown.js)


@pytest.fixture
def prompts(campaign, policy):
    """Three prompts across both splits, each with one completion."""
    made = {}
    for text, split in [("Explain recursion", "train"), ("Explain loops", "held_out"), ("Write a poem", "held_out")]:
        made[text] = Prompt.objects.create(campaign=campaign, text=text, split=split, content_hash=content_hash(text))
        Completion.objects.create(prompt=made[text], policy=policy, text=f"On {text}", content_hash=content_hash(text))
    return made


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"split": "held_out"}, ["Explain loops", "Write a poem"]),
        ({"q": "EXPLAIN"}, ["Explain recursion", "Explain loops"]),
        ({"q": "explain", "split": "held_out"}, ["Explain loops"]),
        ({"q": "nothing like it"}, []),
    ],
    ids=["split", "search", "search-within-split", "no-match"],
)
def test_it_filters_prompts(page_as, prompts, query, expected):
    response = page_as("reviewer").get(URL, query)
    assert [p.text for p in response.context["page"]] == expected
    assert all(len(p.completions.all()) == 1 for p in response.context["page"])


def test_it_pages_prompts_by_twenty(page_as, campaign):
    Prompt.objects.bulk_create(
        Prompt(campaign=campaign, text=f"Prompt {i:02}", content_hash=content_hash(f"Prompt {i:02}")) for i in range(25)
    )
    client = page_as("reviewer")
    first, second = client.get(URL), client.get(URL, {"page": 2})
    assert [p.text for p in first.context["page"]][-1] == "Prompt 19"
    assert [p.text for p in second.context["page"]] == [f"Prompt {i}" for i in range(20, 25)]
    assert b"Page 2 of 2" in second.content
