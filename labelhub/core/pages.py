"""Pages that follow their objects live: a part of a page, rendered on its own.

A page marks a region ``<div data-follow="?part=NAME" …>`` whose contents come from an
include; ``frontend/js/follow.js`` fetches ``?part=NAME`` again and swaps the region's
contents. The view answers that request with the same include, after the same permission
check as the page, through :func:`render_part`.
"""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render


def requested_part(request: HttpRequest, parts: dict[str, str]) -> str | None:
    """The template of the part asked for (``?part=NAME``), None for the whole page; 404 for
    a part the page does not have."""
    name = request.GET.get("part")
    if not name:
        return None
    if name not in parts:
        raise Http404("This page has no such part.")
    return parts[name]


def render_part(request: HttpRequest, template_name: str, context: dict) -> HttpResponse:
    """One part of a page, never cached (it is asked for again to see what changed)."""
    response = render(request, template_name, context)
    response["Cache-Control"] = "no-store"
    return response
