"""Reading the runs page's start forms as a browser would submit them (tests/training/test_run_form_*.py)."""

from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    """The fields of the form inside ``<details data-run-kind="KIND">``: what a submit would post."""

    def __init__(self, kind: str):
        super().__init__(convert_charrefs=True)
        self.kind, self.inside, self.depth = kind, False, 0
        self.fields: list[tuple[str, str]] = []
        self.select: dict | None = None
        self.option: dict | None = None
        self.textarea: dict | None = None
        self.attrs_by_name: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "details" and attrs.get("data-run-kind") == self.kind:
            self.inside, self.depth = True, 0
        if not self.inside:
            return
        if tag == "details":
            self.depth += 1
        if tag == "input" and attrs.get("name"):
            self.attrs_by_name.setdefault(attrs["name"], attrs)
            if attrs.get("type") != "checkbox" or "checked" in attrs:
                self.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self.select = {"name": attrs.get("name"), "first": None, "chosen": None}
            self.attrs_by_name[attrs.get("name")] = attrs
        elif tag == "option" and self.select is not None:
            self.option = {"value": attrs.get("value"), "selected": "selected" in attrs, "text": ""}
        elif tag == "textarea":
            self.textarea = {"name": attrs.get("name"), "text": ""}

    def handle_data(self, data):
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "option" and self.option is not None:
            value = self.option["value"] if self.option["value"] is not None else self.option["text"]
            self.select["first"] = self.select["first"] if self.select["first"] is not None else value
            if self.option["selected"]:
                self.select["chosen"] = value
            self.option = None
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"] if self.select["chosen"] is not None else self.select["first"]
            if self.select["name"] and chosen is not None:
                self.fields.append((self.select["name"], chosen))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea["name"], self.textarea["text"].lstrip("\n")))
            self.textarea = None
        elif tag == "details":
            self.depth -= 1
            if self.depth == 0:
                self.inside = False


def form_fields(html: str, kind: str) -> list[tuple[str, str]]:
    """(name, value) pairs the kind's start form would post, in document order."""
    reader = _FormReader(kind)
    reader.feed(html)
    return reader.fields


def form_attrs(html: str, kind: str) -> dict[str, dict]:
    """The attributes of each named input and select of the kind's start form (the first one of a name)."""
    reader = _FormReader(kind)
    reader.feed(html)
    return reader.attrs_by_name


def post_body(fields: list[tuple[str, str]], **changes) -> dict[str, list[str]]:
    """The form's fields as a test client's POST data, with ``changes``: ``config__num_samples="5"``
    sets ``config.num_samples``; a list sets every value (an unticked checkbox posts only its hidden
    ``["false"]``); None leaves the field out."""
    body: dict[str, list[str]] = {}
    for name, value in fields:
        body.setdefault(name, []).append(value)
    for key, value in changes.items():
        name = key.replace("__", ".")
        if value is None:
            body.pop(name, None)
        else:
            body[name] = list(value) if isinstance(value, list) else [value]
    return body
