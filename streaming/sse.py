"""``GET /api/v1/stream/sse?channels=...``: Server-Sent Events (a Channels HTTP consumer).

Each event: ``event: snapshot|update|reset|error``, ``id:`` (the seq; with several channels
``channel=seq,...``), ``data:`` the same JSON frame the WebSocket sends. ``Last-Event-ID``
(sent by EventSource on reconnect, or ``?last_event_id=``) resumes from the buffer, else a
``reset`` and a fresh snapshot. ``retry:`` first, a comment keep-alive every
``STREAM_SSE_KEEPALIVE_SECONDS``; on client disconnect Django cancels the generator and the
subscriptions are dropped. Private channels (``notifications``) need the browser session.

It is an ``AsyncHttpConsumer`` routed by ``config.asgi`` before Django, not a Django view: a
stream must never pass through middleware that buffers or adapts it to sync (one sync-only
middleware makes Django drain an async iterator to the end, i.e. hang), and it lives only in
the ASGI process (daphne), like the WebSocket. Under WSGI the path answers 503 saying so.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.http import AsyncHttpConsumer
from django.conf import settings
from django.http import HttpRequest, HttpResponse

from core.errors import envelope
from streaming.services import ChannelError, StreamSession, convert, ensure_feed, resolve
from streaming.services.channels import Channel, validate
from streaming.services.metrics import CONNECTIONS, DELIVERED
from streaming.services.outbox import encode


def parse_channels(raw: str, *, user_id: int | None) -> list[Channel]:
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise ChannelError("required", "give channels=quotes:bitcoin,quotes:ethereum")
    if len(names) > settings.STREAM_MAX_SUBSCRIPTIONS:
        raise ChannelError(
            "too_many_subscriptions", f"at most {settings.STREAM_MAX_SUBSCRIPTIONS} channels"
        )
    return list({c.public: c for c in (resolve(n, user_id=user_id) for n in names)}.values())


def parse_last_event_id(raw: str, channels: list[Channel]) -> dict[str, int]:
    """``12`` (one channel) or ``quotes:bitcoin=12,quotes:*=40`` -> {channel: seq}."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    if raw.isdigit() and len(channels) == 1:
        return {channels[0].public: int(raw)}
    wanted = {c.public for c in channels}
    out: dict[str, int] = {}
    for part in raw.split(","):
        name, sep, seq = part.rpartition("=")
        if sep and name in wanted and seq.isdigit():
            out[name] = int(seq)
    return out


def event_id(positions: dict[str, int], channels: list[Channel]) -> str:
    if len(channels) == 1:
        return str(positions.get(channels[0].public, 0))
    return ",".join(f"{c.public}={positions[c.public]}" for c in channels if c.public in positions)


def format_event(frame: dict[str, Any], event_id_value: str | None) -> str:
    lines = [f"event: {frame['type']}"]
    if event_id_value is not None:
        lines.append(f"id: {event_id_value}")
    lines.append("data: " + encode(frame))
    return "\n".join(lines) + "\n\n"


def wsgi_fallback(request: HttpRequest) -> HttpResponse:
    """The Django URL of the stream: reached only when no ASGI router took the request."""
    return envelope(
        status_code=503,
        code="stream_needs_asgi",
        detail="Streams are served by the ASGI server (daphne: make run, or the ws service).",
        headers={"Retry-After": "30"},
    )


def _error_body(status: int, code: str, detail: str, attr: str) -> tuple[bytes, str]:
    request_id = uuid.uuid4().hex
    body = {
        "type": "client_error" if status < 500 else "server_error",
        "status": status,
        "errors": [{"code": code, "detail": detail, "attr": attr}],
        "request_id": request_id,
    }
    return json.dumps(body).encode(), request_id


class SseConsumer(AsyncHttpConsumer):
    async def http_request(self, message: dict[str, Any]) -> None:
        if message.get("more_body"):
            return  # a GET has no body worth waiting for
        await self.start()

    async def start(self) -> None:
        self.pump: asyncio.Task | None = None
        self.session: StreamSession | None = None
        if self.scope.get("method") != "GET":
            await self._fail(405, "method_not_allowed", "Use GET.")
            return
        user = self.scope.get("user")
        user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
        query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
        try:
            channels = parse_channels((query.get("channels") or [""])[0], user_id=user_id)
            for channel in channels:
                problem = await database_sync_to_async(validate)(channel)
                if problem:
                    raise ChannelError("unknown_channel", problem)
            vs = convert.normalise((query.get("vs") or [""])[0])
            await database_sync_to_async(convert.check_currency)(vs)
        except ChannelError as exc:
            attr = "vs" if exc.code in ("unknown_currency", "bad_currency") else "channels"
            status = 401 if exc.code == "auth_required" else 400
            await self._fail(status, exc.code, exc.message, attr=attr)
            return
        headers = dict(self.scope.get("headers", []))
        last = (
            headers.get(b"last-event-id", b"").decode("latin1")
            or (query.get("last_event_id") or [""])[0]
        )
        positions = parse_last_event_id(last, channels)
        self.wakeup = asyncio.Event()
        self.session = StreamSession.open(user_id=user_id, wake=self.wakeup.set, vs=vs)
        self.outbox = self.session.outbox
        self.channels = channels
        self.sent = dict(positions)
        await self.send_headers(
            status=200,
            headers=[
                (b"Content-Type", b"text/event-stream; charset=utf-8"),
                (b"Cache-Control", b"no-cache, no-transform"),
                (b"X-Accel-Buffering", b"no"),  # nginx: do not buffer the stream
            ],
        )
        CONNECTIONS.labels("sse").inc()
        self.counted = True
        await self._write(f"retry: {int(settings.STREAM_SSE_RETRY_MS)}\n\n")
        await ensure_feed()
        for channel in channels:
            if channel.public in positions:
                await self.session.resume(channel.public, positions[channel.public])
            else:
                await self.session.subscribe([channel.public])
        self.pump = asyncio.create_task(self._pump(), name="sse-pump")

    async def _fail(self, status: int, code: str, detail: str, attr: str = "channels") -> None:
        body, request_id = _error_body(status, code, detail, attr)
        await self.send_response(
            status,
            body,
            headers=[
                (b"Content-Type", b"application/json"),
                (b"X-Request-ID", request_id.encode()),
            ],
        )
        raise StopConsumer

    async def _write(self, text: str) -> None:
        await self.send_body(text.encode(), more_body=True)

    async def _pump(self) -> None:
        keepalive = float(settings.STREAM_SSE_KEEPALIVE_SECONDS)
        assert self.session is not None
        while True:
            await self.session.drain()
            frame = self.outbox.pop()
            if frame is None:
                self.wakeup.clear()
                try:
                    await asyncio.wait_for(self.wakeup.wait(), timeout=keepalive)
                except TimeoutError:
                    await self._write(": keep-alive\n\n")
                continue
            if "seq" in frame and frame.get("channel") in self.session.subs:
                self.sent[frame["channel"]] = frame["seq"]
            ident = event_id(self.sent, self.channels) if "seq" in frame else None
            await self._write(format_event(frame, ident))
            DELIVERED.labels("sse", frame["type"]).inc()
            if self.outbox.overloaded():
                slow = {"type": "error", "code": "too_slow", "message": "client stayed behind"}
                await self._write(format_event(slow, None))
                await self.send_body(b"", more_body=False)
                await self.channel_layer.send(self.channel_name, {"type": "stream.stop"})
                return

    async def stream_stop(self, event: dict[str, Any]) -> None:
        await self.disconnect()
        raise StopConsumer

    async def disconnect(self) -> None:
        pump = getattr(self, "pump", None)
        if pump is not None:
            pump.cancel()
            self.pump = None
        if getattr(self, "counted", False):
            CONNECTIONS.labels("sse").dec()
            self.counted = False
        session = getattr(self, "session", None)
        if session is not None:
            session.close()
