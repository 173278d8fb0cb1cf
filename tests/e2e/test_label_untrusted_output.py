"""Model output is untrusted: script payloads in completions, prompts and guidelines render inert."""

import pytest
from playwright.sync_api import expect

from tests.e2e.labeling_support import labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAYLOADS = [
    "<script>window.__xss = 1; alert(1)</script>",
    "<img src=x onerror=\"window.__xss = 1; alert(1)\">",
    "[click me](javascript:window.__xss=1;alert(1)) and [x](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">raw link</a> [data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=\"javascript:alert(1)\"></iframe><iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "<svg onload=\"window.__xss = 1; alert(1)\"><circle r=5 /></svg>",
    "![pic](x\" onerror=\"alert(1)) <details open ontoggle=alert(1)><summary>s</summary></details>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    "<form><button formaction=javascript:alert(1)>go</button></form><input autofocus onfocus=alert(1)>",
    "<object data=\"javascript:alert(1)\"></object><embed src=\"javascript:alert(1)\"><style>*{display:none}</style>",
    # TeX and code go to KaTeX and highlight.js: no links, classes or HTML come out of them
    "$\\href{javascript:alert(1)}{x}$ $\\url{javascript:alert(1)}$ $\\htmlClass{evil}{x}$ $\\htmlStyle{position:fixed}{x}$",
    "$$\\includegraphics{https://example.com/x.png} \\htmlData{onload=alert(1)}{x}$$ $<img src=x onerror=alert(1)>$",
    "```html\n<img src=x onerror=\"window.__xss = 1\"><script>window.__xss = 1</script>\n```\n\n```\" onmouseover=\"alert(1)\n<b>x</b>\n```",
]
DANGEROUS = "script, img, iframe, svg, math, form, input, button, object, embed, style, details, [onerror], [onload]"
UNTRUSTED = ".prompt, .completion-body, .chip .snippet, #guidelines-body"
RAW_LINK = '<a href="https://example.com" target="_self" onclick="alert(1)">fine link</a>'


def campaign_with_payloads(lead, labeler):
    texts = [" \n\n".join(PAYLOADS[i::3]) + "\n\nA [fine link](https://example.com)." for i in range(3)]
    chat = [{"role": "<img src=x onerror=alert(1)>", "content": PAYLOADS[1]}, {"role": "user", "content": PAYLOADS[0]}]
    return labeling_campaign(lead=lead, labeler=labeler, prompts=[(chat, texts)], guidelines="\n\n".join(PAYLOADS))


def assert_inert(page, *, typeset=True):
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # give any handler that slipped through the time to run
    # KaTeX's own MathML (<math>) and SVG are built from TeX, not from the text's HTML
    outside_katex = f":is({DANGEROUS}):not(.katex *)"
    assert page.locator(UNTRUSTED).locator(outside_katex).count() == 0
    inside_katex = page.locator(UNTRUSTED).locator(".katex").locator("a, [href], script, foreignObject, .evil, [onload]")
    assert inside_katex.count() == 0
    assert page.locator(".chip .snippet").count() > 0
    if typeset:
        assert page.locator(".katex").count() > 0, "the TeX was typeset"
    links = page.locator(UNTRUSTED).locator("a[href]").evaluate_all("as => as.map(a => [a.getAttribute('href'), a.rel])")
    assert ["https://example.com", "noopener noreferrer nofollow"] in links, "the safe link survives"
    for href, rel in links:
        assert href.startswith(("https:", "http:", "mailto:")), href
        assert "noopener" in rel
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []


def test_it_renders_payloads_in_completions_prompts_and_guidelines_inert(log_in, lead, labeler):
    campaign = campaign_with_payloads(lead, labeler)
    page = open_labeling(log_in, labeler.username, campaign)

    expect(page.locator(".prompt .turn").first).to_contain_text("<img src=x onerror")  # shown as text
    expect(page.locator(".completion-body", has_text="<script>window.__xss")).to_have_count(1)
    assert_inert(page)
    page.keyboard.press("1")  # the page still works
    expect(page.locator("#ranking .chip")).to_have_count(1)


def test_it_sanitizes_even_if_the_server_sent_raw_html(log_in, lead, labeler):
    """Defence in depth: were the server's sanitizer to fail, DOMPurify and the CSP still hold."""
    campaign = campaign_with_payloads(lead, labeler)
    page = log_in(labeler.username, "pw-for-tests-123")

    def raw_html_instead_of_sanitized(route):
        response = route.fetch()
        if response.status != 200:
            route.fulfill(response=response)
            return
        lease = response.json()
        for completion in lease["completions"]:
            completion["html"] = completion["text"] + RAW_LINK
        lease["campaign"]["guidelines_html"] = "".join(PAYLOADS)
        route.fulfill(response=response, json=lease)

    page.route("**/api/labeling/next/**", raw_html_instead_of_sanitized)
    page.goto(f"/label/work/?campaign={campaign.slug}")
    expect(page.locator(".completion-card")).to_have_count(3)
    assert page.locator(".completion-body").locator("a").count() >= 1
    assert_inert(page, typeset=False)  # the raw HTML has no math spans
    # Trusted Types are enforced: no code on this page can assign an HTML string to the DOM
    assert page.evaluate(
        "() => { try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return 'allowed' }"
        " catch (error) { return error.name } }"
    ) == "TypeError"
