"""Every API error as JSON in one shape, and no error that can escape while an error is shown.

The shape (docs/api.md)::

    {"detail": "one sentence for a person", "code": "invalid",
     "errors": [{"field": "role", "message": "…"}, …]}

``errors`` lists what is wrong with the request's fields (``field`` is a dotted path, or
null for the request as a whole; imports add ``line``); it is empty for errors that are not
about fields (401, 403, 404, 409, 429, 500). An endpoint may add keys of its own (a flagged
promotion's ``reasons``); ``detail``, ``code`` and ``errors`` are always there.
"""

from __future__ import annotations

import logging
import re
import sys

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError, connections
from django.http import Http404, HttpResponse
from django.views import defaults
from rest_framework import exceptions, renderers, status
from rest_framework.response import Response

logger = logging.getLogger("labelhub.errors")

_UNSHOWABLE = re.compile("[\x00\ud800-\udfff]")
SERVER_ERROR = "A server error occurred; it has been logged."
UNAVAILABLE = "The database cannot be reached right now; try again in a few seconds."
RETRY_AFTER_SECONDS = 5


class BadRequest(exceptions.APIException):
    """A 400 with a detail of its own and field errors: ``{"field": "message"}`` or a list of
    ``{"field", "message", …}`` items (imports add ``line``)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid"

    def __init__(self, detail: str, errors=(), **extra):
        super().__init__(detail)
        self.errors = _items(errors)
        self.extra = extra


class TooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than this server accepts."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"

    def __init__(self, detail=None, **extra):
        super().__init__(detail)
        self.extra = extra


def set_rollback() -> None:
    """As DRF's (rest_framework.views imports this module through its settings, so not from there)."""
    for connection in connections.all(initialized_only=True):
        if connection.settings_dict["ATOMIC_REQUESTS"] and connection.in_atomic_block:
            connection.set_rollback(True)


def error_body(detail: str, code: str, errors=(), **extra) -> dict:
    return clean({"detail": str(detail), "code": str(code), "errors": _items(errors), **extra})


def exception_handler(exc, context):
    """DRF's handler with one body shape; anything else a view raises becomes a logged 500
    in the same shape (never an HTML page, never a traceback)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    elif isinstance(exc, RequestDataTooBig):
        exc = TooLarge()
    elif isinstance(exc, SuspiciousOperation):
        exc = exceptions.ParseError("The request is malformed.")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    set_rollback()
    if database_unavailable(exc):
        view = context.get("view")
        logger.warning("Database unavailable in %s: %s", type(view).__name__ if view else "an API view", exc)
        return Response(error_body(UNAVAILABLE, "database_unavailable"), status=status.HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    if not isinstance(exc, exceptions.APIException):
        view = context.get("view")
        logger.error("Unhandled error in %s", type(view).__name__ if view else "an API view", exc_info=exc)
        return Response(error_body(SERVER_ERROR, "server_error"), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response(_body(exc), status=exc.status_code, headers=headers)


def _body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, BadRequest):
        return error_body(exc.detail, exc.detail.code, exc.errors, **exc.extra)
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail, None))
        fields = sorted({e["field"] for e in errors if e["field"]})
        detail = f"Invalid input: {', '.join(fields)}." if fields else (
            errors[0]["message"] if errors else "Invalid input.")
        return error_body(detail, "invalid", errors)
    extra = getattr(exc, "extra", {})
    if isinstance(exc.detail, dict | list):  # an APIException raised with structured detail
        return error_body("Invalid input.", exc.default_code, list(_flatten(exc.detail, None)), **extra)
    return error_body(exc.detail, getattr(exc.detail, "code", exc.default_code), **extra)


def _flatten(detail, field):
    """DRF's nested error detail → ``{"field": "a.b", "message"}`` items."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            key = str(key)
            name = None if key in {"non_field_errors", "__all__"} else key
            yield from _flatten(value, f"{field}.{name}" if field and name else (name or field))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                yield {"field": field, "message": str(item)}
        else:
            for i, item in enumerate(detail):
                if item:
                    yield from _flatten(item, f"{field}.{i}" if field else str(i))
    else:
        yield {"field": field, "message": str(detail)}


def _items(errors) -> list[dict]:
    if isinstance(errors, dict):
        return [{"field": str(k), "message": str(v)} for k, v in errors.items()]
    return [dict(item) for item in errors]


def clean(value):
    """The value with NUL and lone surrogates replaced by U+FFFD, so it can always be encoded."""
    if isinstance(value, str):
        return _UNSHOWABLE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {clean(str(k)): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON renderer, which never fails on text UTF-8 cannot encode (it is replaced)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        try:
            return super().render(data, accepted_media_type, renderer_context)
        except UnicodeEncodeError:
            return super().render(clean(data), accepted_media_type, renderer_context)


class LastResortMiddleware:
    """The outermost middleware. When producing a response fails, and then producing the error
    page fails too (Django's DEBUG page re-renders the request, so a lone surrogate in it
    breaks the page), the exception would escape the ASGI handler before ``request_finished``
    — and the request's database connection would never go back to the pool: four such
    requests exhausted a pool of four. Here it becomes a plain JSON 500 that echoes nothing,
    and the request ends normally."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except Exception as exc:
            if database_unavailable(exc):
                return unavailable_response(request)
            logger.exception("Error while answering %s %s", request.method, clean(request.path))
            body = renderers.JSONRenderer().render(error_body(SERVER_ERROR, "server_error"))
            return HttpResponse(body, status=500, content_type="application/json")


def database_unavailable(exc: BaseException) -> bool:
    """A lost or refused database connection, a pool that gave none in time, a statement the
    server cancelled or rolled back (deadlock, serialization): transient, worth a retry — not a
    bug. Django raises these as OperationalError / InterfaceError whatever the driver said."""
    return isinstance(exc, OperationalError | InterfaceError)


def unavailable_response(request) -> HttpResponse:
    """503 with Retry-After: the API's JSON error, or a page that needs nothing from the
    database (no template, no context processors) for everything else."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        body = renderers.JSONRenderer().render(error_body(UNAVAILABLE, "database_unavailable"))
        return HttpResponse(body, status=503, content_type="application/json", headers=headers)
    return HttpResponse(_UNAVAILABLE_PAGE, status=503, content_type="text/html; charset=utf-8", headers=headers)


_UNAVAILABLE_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}"><title>LabelHub: try again in a moment</title></head>
<body><main><h1>Try again in a moment</h1>
<p>{UNAVAILABLE} This page reloads by itself in {RETRY_AFTER_SECONDS} seconds.</p></main></body></html>
"""


class DatabaseUnavailableMiddleware:
    """A view (or its template) that cannot reach the database answers 503 with Retry-After,
    not a 500 that reads like a bug: clients (the labeling page, the fault tests' labelers)
    retry, and the web server recovers by itself when the database is back. API views get the
    same answer from exception_handler; this covers every other view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not database_unavailable(exception):
            return None
        logger.warning("Database unavailable while answering %s %s: %s", request.method, clean(request.path), exception)
        return unavailable_response(request)


def json_error_view(status_code: int, code: str, detail: str):
    """A Django error handler (handler404/handler500): JSON for /api/ paths, Django's page otherwise."""
    fallback = {404: defaults.page_not_found, 500: defaults.server_error, 400: defaults.bad_request,
                403: defaults.permission_denied}[status_code]

    def view(request, exception=None):
        if status_code == 500 and database_unavailable(sys.exc_info()[1]):  # raised in a middleware
            return unavailable_response(request)
        if request.path.startswith("/api/"):
            body = renderers.JSONRenderer().render(error_body(detail, code))
            return HttpResponse(body, status=status_code, content_type="application/json")
        return fallback(request) if status_code == 500 else fallback(request, exception)

    return view


ERROR_SCHEMA = {
    "type": "object",
    "description": "Every API error (docs/api.md). An endpoint may add keys of its own.",
    "required": ["detail", "code", "errors"],
    "properties": {
        "detail": {"type": "string", "description": "One sentence for a person."},
        "code": {"type": "string", "description": "invalid, parse_error, not_authenticated, "
                 "permission_denied, not_found, method_not_allowed, conflict, throttled, server_error, "
                 "database_unavailable (503, with Retry-After)…"},
        "errors": {"type": "array", "description": "What is wrong with which field (empty when no field is at fault).",
                   "items": {"type": "object", "required": ["field", "message"], "properties": {
                       "field": {"type": "string", "nullable": True,
                                 "description": "A dotted path (ratings.12.helpfulness), or null for the request as a whole."},
                       "message": {"type": "string"},
                       "line": {"type": "integer", "nullable": True, "description": "Imports: the line of the file."},
                   }}},
    },
}


def schema_error_responses(result, generator, request, public):
    """drf-spectacular hook: every operation's 4xx answers are the Error object above."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if str(code).startswith("4"):
                    response["content"] = content
            responses.setdefault("4XX", {"description": "An error (see Error).", "content": content})
    return result
