"""What comes in at the edge: text PostgreSQL can store, integers its columns can hold.

PostgreSQL's text and jsonb cannot hold the NUL character, and UTF-8 (the database's and
the response's encoding) cannot hold a lone UTF-16 surrogate (``"\\ud800"`` in JSON). Either
one, let through, fails later — on save (a 500) or while the error that echoes it is
rendered. So every request body is checked as it is parsed (the API's parsers below), every
query parameter by ``query_text``/``query_int``, and imported files by ``unstorable``.
Errors name the field and never echo the offending text.

Text a user brings in (a prompt, a chat turn, a completion, a pair's side, metadata) is also
bounded per field: ``LABELHUB_TEXT_MAX_BYTES`` of UTF-8 (JSON values measured as compact JSON),
checked by ``size_problem`` at import and by the API's text and JSON fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse, QueryDict
from rest_framework import parsers, serializers
from rest_framework.exceptions import ParseError, ValidationError

from labelhub.core.errors import clean, error_body

#: Deeper JSON is refused: Python's json module cannot reliably encode it (RecursionError).
JSON_MAX_DEPTH = 64
#: PostgreSQL's ``integer`` and ``bigint`` (ids are bigint).
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why this string cannot be stored, or None."""
    if "\x00" in text:
        return "contains the NUL character, which cannot be stored"
    if _SURROGATE.search(text):
        return "contains a lone UTF-16 surrogate (e.g. \\ud800), which is not valid Unicode text"
    return None


def size_problem(value) -> str | None:
    """Why this text (or JSON value, as compact JSON) is over the per-field limit, or None."""
    limit = settings.LABELHUB_TEXT_MAX_BYTES
    if isinstance(value, str):
        if len(value) * 4 <= limit:  # UTF-8 takes at most 4 bytes a character
            return None
        size = len(value.encode("utf-8", "surrogatepass"))
    else:
        size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    if size <= limit:
        return None
    return f"is {size:,} bytes of UTF-8; at most {limit:,} are accepted (LABELHUB_TEXT_MAX_BYTES)"


def unstorable(value) -> str | None:
    """Why PostgreSQL could not store this text or JSON value, or None if it can: the NUL
    character or a lone surrogate (in text, values or keys), or nesting deeper than
    ``JSON_MAX_DEPTH``."""
    problem, _ = _find_unstorable(value)
    return problem


def _find_unstorable(value) -> tuple[str | None, str]:
    """(why, where) for the first unstorable part of a JSON value; ``where`` is a path such
    as ``[0].name`` (a key that is itself unstorable is reported at its object)."""
    stack = [(value, 0, "")]
    while stack:
        item, depth, path = stack.pop()
        if depth > JSON_MAX_DEPTH:
            return f"is nested deeper than {JSON_MAX_DEPTH} levels", path
        if isinstance(item, str):
            if problem := text_problem(item):
                return problem, path
        elif isinstance(item, Mapping):
            for key, part in item.items():
                key = str(key)
                if problem := text_problem(key):
                    return f"has a key that {problem}", path
                stack.append((part, depth + 1, f"{path}.{key}" if path else key))
        elif isinstance(item, list | tuple):
            stack.extend((part, depth + 1, f"{path}[{i}]") for i, part in enumerate(item))
    return None, ""


def check_body(data) -> None:
    """Raise a 400 naming the top-level field whose value (or key) cannot be stored."""
    if isinstance(data, QueryDict):
        data = {key: data.getlist(key) for key in data}
    if not isinstance(data, Mapping):
        if problem := unstorable(data):
            raise ValidationError({"body": [f"The request body {problem}."]})
        return
    for key, value in data.items():
        key = str(key)
        if problem := text_problem(key):
            raise ValidationError({"body": [f"A field name {problem}."]})
        problem, where = _find_unstorable(value)
        if problem:
            at = f" at {where}" if where else ""
            raise ValidationError({key: [f"The value{at} {problem}."]})


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing unstorable text and absurd nesting as a 400 naming the field."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than Python can read (limit {JSON_MAX_DEPTH})") from None
        check_body(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        check_body(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        check_body(result.data)
        for name, upload in result.files.items():
            if text_problem(upload.name or ""):
                raise ValidationError({name: ["The file name contains characters that cannot be stored."]})
        return result


class JsonbField(serializers.JSONField):
    """A JSON value PostgreSQL's jsonb can store: no NUL character, no lone surrogate, no
    absurd nesting, at most ``LABELHUB_TEXT_MAX_BYTES`` as JSON."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if problem := unstorable(value) or size_problem(value):
            raise serializers.ValidationError(f"The value {problem}.")
        return value


class TextField(serializers.CharField):
    """Free text (a completion, guidelines, a rationale): at most ``LABELHUB_TEXT_MAX_BYTES``."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if problem := size_problem(value):
            raise serializers.ValidationError(f"The text {problem}.")
        return value


def id_field(**kwargs) -> serializers.IntegerField:
    """An id in a request body: a positive bigint."""
    return serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, **kwargs)


def query_text(params, name: str, *, max_length: int = 1000) -> str | None:
    """A query parameter as storable text (None when absent), or a 400 naming it."""
    value = params.get(name)
    if value is None:
        return None
    if problem := text_problem(value):
        raise ValidationError({name: [f"The value {problem}."]})
    if len(value) > max_length:
        raise ValidationError({name: [f"Longer than {max_length:,} characters."]})
    return value


_DIGITS = re.compile(r"[0-9]+")


def whole_number(value, *, minimum: int = 0, maximum: int = BIGINT_MAX) -> int | None:
    """``value`` (a form or query string) as a whole number in [minimum, maximum], else None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    negative = value.startswith("-")
    digits = value[1:] if negative else value
    if not _DIGITS.fullmatch(digits) or len(digits) > 20:
        return None
    number = -int(digits) if negative else int(digits)
    return number if minimum <= number <= maximum else None


def query_int(params, name: str, *, minimum: int = 0, maximum: int = BIGINT_MAX) -> int | None:
    """A query parameter as a whole number in [minimum, maximum] (None when absent or
    empty), or a 400 naming it. Only ASCII digits count ("²" is not a number)."""
    value = params.get(name)
    if value in (None, ""):
        return None
    number = whole_number(value, minimum=minimum, maximum=maximum)
    if number is None:
        raise ValidationError({name: [f"Must be a whole number from {minimum} to {maximum}."]})
    return number


class StorableInputMiddleware:
    """Query parameters (and, for pages, form fields) holding the NUL character are refused
    with a 400 naming the parameter, before any view can pass them to PostgreSQL. API bodies
    are checked by the parsers above (DRF reads them itself)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [request.GET]
        if not request.path.startswith("/api/") and request.method == "POST":
            sources.append(request.POST)
        for params in sources:
            for name, values in params.lists():
                if text_problem(name) or any(text_problem(v) for v in values):
                    return _refused(request, name)
        return self.get_response(request)


def _refused(request, name):
    name = clean(name)
    message = "The value contains the NUL character, which cannot be stored."
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(f"Invalid input: {name}.", "invalid", {name: message}), status=400)
    return HttpResponseBadRequest(f"{name}: {message}", content_type="text/plain; charset=utf-8")
