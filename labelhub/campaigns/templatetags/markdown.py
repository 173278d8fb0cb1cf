"""Markdown rendered through a sanitizer: model output and guidelines are untrusted text.

markdown-it renders with raw HTML disabled (so ``<script>`` stays text), then nh3 (ammonia)
keeps only an allow-list of tags and attributes and only http(s)/mailto links.

TeX is kept out of the markdown parser's hands (``*`` and ``_`` in a formula are not
emphasis, ``\\\\`` stays two backslashes) and comes out as escaped text in
``<span class="math inline">`` (``$…$``, ``\\(…\\)``) or ``<span|div class="math display">``
(``$$…$$``, ``\\[…\\]``); the browser typesets it with KaTeX (frontend/js/lib/content.js).
A ``$`` followed by a space or preceded by a digit is a dollar sign, not math ("$5 and $10").
"""

import functools

import nh3
from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

register = template.Library()

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td", "del",
    "span", "div",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "code": {"class"}, "th": {"style"}, "td": {"style"}}
# spans and divs exist only to carry TeX: no other class (nor any other attribute) survives
ALLOWED_CLASSES = {"span": {"math", "inline", "display"}, "div": {"math", "display"}}


def _bracket_math(state, silent: bool) -> bool:
    """``\\(…\\)`` inline and ``\\[…\\]`` display TeX, as language models write it (markdown's
    backslash escapes would otherwise turn them into plain brackets)."""
    src, pos = state.src, state.pos
    if not src.startswith(("\\(", "\\["), pos):
        return False
    close = "\\)" if src[pos + 1] == "(" else "\\]"
    end = src.find(close, pos + 2)
    if end < 0 or not src[pos + 2:end].strip():
        return False
    if not silent:
        token = state.push("math_inline" if close == "\\)" else "math_inline_double", "math", 0)
        token.content, token.markup = src[pos + 2:end], src[pos:pos + 2]
    state.pos = end + 2
    return True


def _math_renderer(tag: str, kind: str):
    def render(self, tokens, idx, options, env):
        return f'<{tag} class="math {kind}">{escape(tokens[idx].content.strip())}</{tag}>' + ("\n" if tag == "div" else "")
    return render


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
           allow_blank_lines=False, double_inline=True)
    md.inline.ruler.before("escape", "math_brackets", _bracket_math)
    md.add_render_rule("math_inline", _math_renderer("span", "inline"))
    md.add_render_rule("math_inline_double", _math_renderer("span", "display"))
    md.add_render_rule("math_block", _math_renderer("div", "display"))
    return md


_md = _markdown()


@functools.lru_cache(maxsize=4096)  # a pure function of the text; guidelines and completions repeat
def render_markdown(text: str) -> str:
    html = _md.render(text or "")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


@register.filter(name="markdown")
def markdown_filter(text):
    return mark_safe(render_markdown(text))  # noqa: S308 — sanitized by nh3 above
