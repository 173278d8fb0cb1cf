"""What a locked-out sign-in gets (django-axes calls ``locked_out``; settings.AXES_*)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from labelhub.core.errors import error_body


def message() -> str:
    minutes = round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)
    return (f"Too many failed sign-ins for this account or from this address. Try again in {minutes} "
            f"minute{'s' if minutes != 1 else ''} (each new attempt before then starts the wait again).")


def locked_out(request, original_response=None, credentials=None):
    """429 with the reason and a Retry-After header: JSON in the API's error shape for the
    token endpoint, the sign-in page with the message for the login pages."""
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(message(), "throttled"), status=429)
    else:
        response = render(request, "registration/login.html", {"locked_out": message()}, status=429)
    response["Retry-After"] = retry_after
    return response
