"""A URLconf for tests/config/test_error_while_showing_an_error.py: the real one, plus a view
that opens a database connection and then fails with a message no page can encode (a lone
surrogate), so that Django's DEBUG error page fails too."""

from django.db import connections
from django.urls import include, path

#: The connection each call of ``broken`` used (the request thread's own).
opened = []


def broken(request):
    connection = connections["default"]
    connection.ensure_connection()
    opened.append(connection)
    raise RuntimeError("a message no page can show: \ud800")


urlpatterns = [path("broken/", broken), path("", include("labelhub.config.urls"))]
