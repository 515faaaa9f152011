"""ASGI entry point: HTTP (and static files) plus the WebSocket routes of ``streaming``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from core.asgi import get_asgi_application

# Django must be set up before anything imports models. Django's handler, minus its signal
# thread hops on requests that never needed a thread (core/asgi.py, docs/performance.md).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import re_path  # noqa: E402

from accounts.asgi import TicketAuthMiddleware  # noqa: E402
from core.gctune import tune_for_server  # noqa: E402
from streaming.routing import websocket_urlpatterns  # noqa: E402
from streaming.security import BrowserOriginValidator  # noqa: E402
from streaming.sse import SseConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        # SSE is a Channels consumer ahead of Django (no middleware may buffer a stream);
        # everything else is Django (static files by ServeStaticMiddleware, async under ASGI).
        "http": URLRouter(
            [
                re_path(r"^api/v1/stream/sse/?$", AuthMiddlewareStack(SseConsumer.as_asgi())),
                re_path(r"", django_asgi_app),
            ]
        ),
        # Origin check, then the session user, then a ticket (which wins when given).
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(TicketAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# Everything is loaded: freeze it out of the collector's way (core/gctune.py).
tune_for_server()
