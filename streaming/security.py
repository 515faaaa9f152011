"""Origin check of WebSocket handshakes (cross-site WebSocket hijacking).

A browser always sends ``Origin``; it must name one of ``ALLOWED_HOSTS`` (or an origin in
``CSRF_TRUSTED_ORIGINS`` / ``CORS_ALLOWED_ORIGINS``), else the handshake is refused (HTTP 403).
Clients that are not browsers (websocat, scripts) send no ``Origin`` and cannot be hijacked, so
they are let through: channels' ``AllowedHostsOriginValidator`` refuses them, which would make
the stream unusable from a terminal.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.http.request import is_same_domain


class BrowserOriginValidator(OriginValidator):
    def __init__(self, application: Any) -> None:
        super().__init__(application, allowed_origins=[])

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        origin = None
        for name, value in scope.get("headers", []):
            if name == b"origin":
                origin = value.decode("latin1")
                break
        if origin is None or _allowed(origin):
            return await self.application(scope, receive, send)
        denier = WebsocketDenier()
        return await denier(scope, receive, send)


def _allowed(origin: str) -> bool:
    parsed = urlparse(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    explicit = {
        o.rstrip("/") for o in (*settings.CSRF_TRUSTED_ORIGINS, *settings.CORS_ALLOWED_ORIGINS)
    }
    if origin.rstrip("/") in explicit:
        return True
    hosts = settings.ALLOWED_HOSTS or (
        ["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG else []
    )
    host = parsed.hostname if ":" not in parsed.hostname else f"[{parsed.hostname}]"
    return any(pattern == "*" or is_same_domain(host, pattern) for pattern in hosts)
