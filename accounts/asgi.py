"""ASGI middleware for WebSocket sign-in with a single-use ticket (``auth/ws-ticket``).

A ticket comes in the query string of the handshake (``?ticket=...``: single use, at most
30 s, useless once consumed, so unlike a JWT it is safe there) or later in an ``auth``
message. This sets ``scope["user"]`` from a valid ticket, ``scope["stream_auth_error"]`` for a
bad one, and ``scope["stream_authenticate"]`` (async: ticket -> user or None) for the message
form. ``config.asgi`` puts it inside channels' session ``AuthMiddlewareStack``, so a browser
signed in with the session needs no ticket.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from accounts.services import ws_ticket_consume


async def _consume(ticket: str) -> Any:
    return await database_sync_to_async(ws_ticket_consume)(ticket)


class TicketAuthMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            return await self.app(scope, receive, send)
        scope = dict(scope)
        scope["stream_authenticate"] = _consume
        query = parse_qs(scope.get("query_string", b"").decode("latin1"))
        tickets = query.get("ticket")
        if tickets:
            user = await _consume(tickets[0])
            if user is None:
                scope["stream_auth_error"] = "the ticket is invalid, used or expired"
            else:
                scope["user"] = user
        return await self.app(scope, receive, send)
