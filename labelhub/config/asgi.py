"""ASGI entry point (uvicorn or daphne): HTTP through Django's own ASGI handler, WebSockets
through Channels.

With ``DATABASE_URL`` unset the embedded PostgreSQL is started (or attached to) first.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labelhub.config.settings")

from labelhub.config import embedded_db  # noqa: E402

embedded_db.ensure_running_unless_configured()

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from labelhub.config.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
