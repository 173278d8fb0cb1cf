"""Markdown, highlighted code and TeX (KaTeX) render the same in the prompt, the responses and the
ranking chips — and on the lead's campaign page — under the CSP; four responses fit a
1440×900 screen without scrolling."""

import pytest
from playwright.sync_api import expect

from tests.e2e.labeling_support import PASSWORD, labeling_campaign, open_labeling

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPT = "Write **fast** code for $\\sum_{i=1}^{n} i$:\n\n```python\ndef total(n):\n    return n * (n + 1) // 2\n```"
RESPONSES = [
    "**Closed form** $\\frac{n(n+1)}{2}$:\n\n```python\ndef total(n):\n    return n * (n + 1) // 2\n```\n\n" + "Fine. " * 200,
    "A *loop*:\n\n```js\nfor (let i = 0; i < n; i++) s += i;\n```\n\n$$\n\\vec{v} = \\int_0^1 x^2\\,dx\n$$",
    "**Use** `sum(range(n + 1))`, \\(O(n)\\), costs $5 and $10.\n\n```\nprint(sum(range(11)))\n```",
    "**No**: $\\sqrt{x}$ " + "long_unbroken_word_" * 40 + "\n\n```python\nx = 1\n```",
]
RAW = ["**", "```", "$\\", "\\("]


def rendered(locator):
    """What a reader sees in one rendered text (KaTeX's TeX annotation for screen readers aside)."""
    return locator.evaluate("""el => { const copy = el.cloneNode(true);
        copy.querySelectorAll('annotation').forEach(a => a.remove()); return copy.textContent; }""")


def assert_rendered(locator):
    expect(locator).to_have_attribute("data-typeset", "done")
    assert locator.locator("strong").count() >= 1
    assert locator.locator("pre code.hljs").count() >= 1
    assert locator.locator(".math.typeset .katex").count() >= 1
    text = rendered(locator)
    for raw in RAW:
        assert raw not in text, (raw, text[:200])


def test_it_renders_markdown_code_and_tex_alike_everywhere(log_in, browser_page, lead, labeler):
    violations = []
    browser_page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    browser_page.set_viewport_size({"width": 1440, "height": 900})
    campaign = labeling_campaign(lead=lead, labeler=labeler, flags=["unsafe"], axes=[{"name": "helpful", "min": 1, "max": 5}],
                                 prompts=[(PROMPT, RESPONSES)])
    page = open_labeling(log_in, labeler.username, campaign)

    assert_rendered(page.locator(".prompt .markdown"))
    assert page.locator(".prompt pre code .hljs-keyword", has_text="def").count() == 1
    cards = page.locator(".completion-card")
    expect(cards).to_have_count(4)
    for i in range(4):
        card = cards.nth(i)
        body = card.locator(".completion-body")
        expect(body).to_have_attribute("data-typeset", "done")
        assert body.locator(".katex").count() >= 1 and body.locator("pre code.hljs").count() == 1
        chip = page.locator(f'.chip[data-id="{card.get_attribute("data-id")}"] .snippet')
        expect(chip).to_have_attribute("data-typeset", "done")
        assert chip.inner_html() == body.inner_html()  # one renderer: the chip is the card's text, clipped
    assert_rendered(page.locator(".completion-body", has_text="Closed form"))
    assert "costs $5 and $10" in rendered(page.locator(".completion-body", has_text="costs"))  # dollars stay dollars

    # all four responses on one 1440×900 screen, whole, and the page does not scroll
    viewport = page.evaluate("[innerWidth, innerHeight, document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert viewport == [1440, 900, 1440, 900], viewport
    for box in cards.evaluate_all("cs => cs.map(c => c.getBoundingClientRect().toJSON())"):
        assert box["top"] >= 0 and box["left"] >= 0 and box["bottom"] <= 900 and box["right"] <= 1440, box
    page.keyboard.press("1")
    expect(page.locator("#ranking .chip")).to_have_count(1)

    page.context.clear_cookies()
    page = log_in(lead.username, PASSWORD)
    page.goto(f"/campaigns/{campaign.slug}/")
    prompt = page.locator(".prompt .prompt-text")
    assert_rendered(prompt)
    assert "    return n * (n + 1) // 2" in prompt.locator("pre code").text_content()  # indentation kept
    page.locator("summary", has_text="Completions").click()
    expect(page.locator(".completion .markdown .katex").first).to_be_visible()
    assert violations == []
