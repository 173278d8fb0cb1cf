"""The ``markdown`` filter: markdown-it renders with raw HTML off, then nh3 keeps only an
allow-list of tags, attributes and link schemes. Model output must come out inert."""

import re

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from labelhub.campaigns.templatetags import markdown
from labelhub.campaigns.templatetags.markdown import render_markdown

DANGEROUS_HREF = re.compile(r"""<[^>]*\shref\s*=\s*["']?\s*(javascript|vbscript|data):""", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son\w+\s*=", re.IGNORECASE)

ATTACKS = {
    "script": "<script>alert(1)</script>",
    "img-onerror": "<img src=x onerror=alert(1)>",
    "javascript-link": "[x](javascript:alert(1))",
    "mixed-case-scheme": "[x](JaVaScRiPt:alert(1))",
    "entity-encoded-scheme": "[x](&#106;avascript:alert(1))",
    "reference-link": "[x][1]\n\n[1]: javascript:alert(1)",
    "autolink": "<javascript:alert(1)>",
    "data-link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "raw-anchor": '<a href="javascript:alert(1)">x</a>',
    "raw-block": 'text\n<div onclick="alert(1)">y</div>',
    "iframe": '<iframe src="https://evil.example"></iframe>',
    "svg": "<svg onload=alert(1)>",
    "style": "<style>body{display:none}</style>",
}


def assert_inert(html):
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<iframe" not in html.lower()
    assert "<svg" not in html.lower()
    assert "<style" not in html.lower()
    assert not DANGEROUS_HREF.search(html)
    assert not EVENT_HANDLER.search(html)


@pytest.mark.parametrize("text", ATTACKS.values(), ids=ATTACKS.keys())
def test_it_renders_attacks_inert(text):
    assert_inert(render_markdown(text))


def test_it_shows_html_as_escaped_text():
    assert render_markdown("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    assert render_markdown("<img src=x onerror=alert(1)>") == "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"


@pytest.mark.parametrize(
    "html",
    [
        '<p><a href="javascript:alert(1)">x</a></p>',
        '<p><a href="JAVASCRIPT:alert(1)" onclick="alert(1)">x</a></p>',
        "<script>alert(1)</script><p>ok</p>",
        '<img src="x" onerror="alert(1)">',
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<iframe src="https://evil.example"></iframe>',
    ],
)
def test_it_sanitizes_even_what_the_markdown_renderer_lets_through(monkeypatch, html):
    monkeypatch.setattr(markdown._md, "render", lambda text: html)
    assert_inert(render_markdown("anything"))


def test_it_keeps_ordinary_markdown():
    html = render_markdown(
        "# Title\n\n**bold** and *em* and `code`\n\n- one\n- two\n\n"
        "[docs](https://example.com/a?b=1)\n\n```python\nx < 1\n```\n\n| a | b |\n|--:|---|\n| 1 | 2 |\n"
    )
    for fragment in [
        "<h1>Title</h1>",
        "<strong>bold</strong>",
        "<em>em</em>",
        "<code>code</code>",
        "<li>one</li>",
        '<a href="https://example.com/a?b=1" rel="noopener noreferrer nofollow">docs</a>',
        '<pre><code class="language-python">x &lt; 1\n</code></pre>',
        '<th style="text-align:right">a</th>',
    ]:
        assert fragment in html


def test_it_keeps_mailto_links():
    assert '<a href="mailto:team@example.com"' in render_markdown("[mail](mailto:team@example.com)")


def test_it_renders_empty_text_as_nothing():
    assert render_markdown("") == ""
    assert render_markdown(None) == ""


def test_it_is_used_as_a_template_filter():
    rendered = Template("{% load markdown %}{{ text|markdown }}").render(Context({"text": "<b>x</b> **y**"}))
    assert rendered == "<p>&lt;b&gt;x&lt;/b&gt; <strong>y</strong></p>\n"
    assert isinstance(markdown.markdown_filter("x"), SafeString)


def test_it_keeps_tex_away_from_markdown_as_escaped_text():
    html = render_markdown(
        "Euler: $e^{i\\pi} + 1 = 0$ costs $5 and $10; $a*b*c$ and \\(x_1 < y_1\\)\n\n"
        "$$\n\\frac{1}{2}\\\\ x\n$$\n\nand \\[\\sum_i x_i\\] too; `$code$`"
    )
    assert '<span class="math inline">e^{i\\pi} + 1 = 0</span>' in html
    assert "costs $5 and $10" in html  # prices are not math
    assert '<span class="math inline">a*b*c</span>' in html  # no <em> inside a formula
    assert '<span class="math inline">x_1 &lt; y_1</span>' in html  # escaped, backslash form kept
    assert '<div class="math display">\\frac{1}{2}\\\\ x</div>' in html
    assert '<span class="math display">\\sum_i x_i</span>' in html
    assert "<code>$code$</code>" in html
    assert_inert(render_markdown("$<img src=x onerror=alert(1)>$ \\(<script>alert(1)</script>\\)"))


def test_it_keeps_only_the_math_classes_on_spans_and_divs(monkeypatch):
    monkeypatch.setattr(markdown._md, "render", lambda text: (
        '<span class="math inline evil" style="position:fixed" id="x">a</span>'
        '<div class="overlay" onclick="alert(1)">b</div>'))
    html = render_markdown("anything else")
    assert html.startswith('<span class="math inline">a</span><div')
    for dropped in ("evil", "style", 'id="x"', "overlay", "onclick"):
        assert dropped not in html
