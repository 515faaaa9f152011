"""ASGI entry point: HTTP (and static files) plus the WebSocket routes of ``streaming``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.asgi import TicketAuthMiddleware  # noqa: E402
from streaming.routing import websocket_urlpatterns  # noqa: E402
from streaming.security import BrowserOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Static files are served by ServeStaticMiddleware, which runs async under ASGI.
        "http": django_asgi_app,
        # Origin check, then the session user, then a ticket (which wins when given).
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(TicketAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
