"""WebSocket consumer of ``/api/v1/stream/ws``: a relay (authenticate, validate, join, send).

Protocol, channels and close codes: docs/streaming.md. State and rules live in
``streaming.services`` (``StreamSession``, ``Outbox``); this class only moves frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from core.parsers import JSONRejected, loads_bounded
from streaming.services import ChannelError, StreamSession, convert, ensure_feed, error_frame
from streaming.services.log import now_iso
from streaming.services.metrics import CLOSED, COALESCED, CONNECTIONS, DELIVERED
from streaming.services.outbox import encode

logger = logging.getLogger("cryptocast.streaming")

# Close codes (documented in docs/streaming.md and the README).
CLOSE_PROTOCOL_ERRORS = 4400  # too many bad messages
CLOSE_BAD_REQUEST = 4400  # the connect URL itself is wrong (an unknown ?vs=)
CLOSE_BAD_TICKET = 4401  # the ticket given on connect is invalid, used or expired
CLOSE_NOT_FOUND = 4404  # no stream at this path
CLOSE_IDLE = 4408  # no subscription for STREAM_IDLE_TIMEOUT_SECONDS
CLOSE_TOO_SLOW = 4429  # the client stayed behind (STREAM_SLOW_CLIENT_SECONDS)
CLOSE_SERVER_ERROR = 1011

ACTIONS = ("subscribe", "unsubscribe", "resume", "ping", "auth")


def _user_id(user: Any) -> int | None:
    return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


def query_vs(scope: dict[str, Any]) -> str:
    """The ``?vs=`` of a stream URL (default ``usd``); ChannelError when malformed."""
    query = parse_qs(scope.get("query_string", b"").decode("latin1"))
    return convert.normalise((query.get("vs") or [""])[0])


async def checked_vs(scope: dict[str, Any]) -> str:
    """``?vs=``, checked against the currencies the stream can convert into."""
    vs = query_vs(scope)
    await database_sync_to_async(convert.check_currency)(vs)
    return vs


class StreamConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        self.errors = 0
        self.closing = False
        self.last_activity = time.monotonic()
        self.no_subs_since: float | None = time.monotonic()
        self.wakeup = asyncio.Event()
        vs_error: ChannelError | None = None
        try:
            vs = await checked_vs(self.scope)
        except ChannelError as exc:
            vs, vs_error = convert.USD, exc
        self.session = StreamSession.open(
            user_id=_user_id(self.scope.get("user")), wake=self.wakeup.set, vs=vs
        )
        self.outbox = self.session.outbox
        self.tasks: list[asyncio.Task] = []
        await self.accept()
        CONNECTIONS.labels("ws").inc()
        self.counted = True
        auth_error = self.scope.get("stream_auth_error")
        if auth_error:
            await self._send_now(error_frame("bad_ticket", auth_error))
            await self._close(CLOSE_BAD_TICKET, "bad_ticket")
            return
        if vs_error is not None:
            await self._send_now(error_frame(vs_error.code, vs_error.message))
            await self._close(CLOSE_BAD_REQUEST, vs_error.code)
            return
        await ensure_feed()
        self.tasks = [asyncio.create_task(self._send_loop(), name="stream-send")]
        self.beat = float(settings.STREAM_HEARTBEAT_SECONDS)
        self.idle = settings.STREAM_IDLE_TIMEOUT_SECONDS
        self.last_beat = time.monotonic()
        self.session.hub.ticker.join(id(self), self._tick)
        self._queue(
            {
                "type": "welcome",
                "ts": now_iso(),
                "user": self.session.user_id,
                "vs": vs,
                "heartbeat_seconds": settings.STREAM_HEARTBEAT_SECONDS,
                "limits": {
                    "max_subscriptions": settings.STREAM_MAX_SUBSCRIPTIONS,
                    "max_message_bytes": settings.STREAM_MAX_MESSAGE_BYTES,
                    "idle_timeout_seconds": settings.STREAM_IDLE_TIMEOUT_SECONDS,
                },
                "actions": list(ACTIONS),
            }
        )

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        if getattr(self, "counted", False):
            CONNECTIONS.labels("ws").dec()
            self.counted = False
        session = getattr(self, "session", None)
        if session is not None:
            session.hub.ticker.leave(id(self))
            session.close()

    # --- frames from the client ---------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        self.last_activity = time.monotonic()
        if bytes_data is not None or text_data is None:
            await self._bad("bad_json", "send JSON text frames, not binary")
            return
        if len(text_data.encode()) > settings.STREAM_MAX_MESSAGE_BYTES:
            await self._bad(
                "too_large", f"messages are at most {settings.STREAM_MAX_MESSAGE_BYTES} bytes"
            )
            return
        try:
            msg = loads_bounded(text_data)
        except JSONRejected as exc:  # too deep, or control characters in a string
            await self._bad("bad_json", f"the message is refused: {exc}")
            return
        except ValueError:
            await self._bad("bad_json", "the message is not valid JSON")
            return
        if not isinstance(msg, dict) or not isinstance(msg.get("action"), str):
            await self._bad("bad_request", 'a message is an object with an "action"')
            return
        action = msg["action"]
        if action == "subscribe" or action == "unsubscribe":
            names = msg.get("channels")
            if not isinstance(names, list) or not names or len(names) > 200:
                await self._bad("bad_request", '"channels" must be a list of 1..200 channel names')
                return
            if action == "subscribe":
                added = await self.session.subscribe(names, vs=msg.get("vs"))
                self._queue({"type": "subscribed", "channels": added, "ts": now_iso()})
            else:
                removed = await self.session.unsubscribe(names)
                self._queue({"type": "unsubscribed", "channels": removed, "ts": now_iso()})
        elif action == "resume":
            await self.session.resume(
                msg.get("channel"), msg.get("after_seq"), msg.get("epoch"), msg.get("vs")
            )
        elif action == "ping":
            self._queue({"type": "pong", "ts": now_iso(), "id": msg.get("id")})
        elif action == "auth":
            await self._auth(msg.get("ticket"))
        else:
            await self._bad(
                "unknown_action", f"unknown action {action!r}; actions: {', '.join(ACTIONS)}"
            )
            return
        self.no_subs_since = None if self.session.subs else (self.no_subs_since or time.monotonic())
        self.wakeup.set()

    async def _auth(self, ticket: Any) -> None:
        authenticate = self.scope.get("stream_authenticate")
        if authenticate is None or not isinstance(ticket, str):
            await self._bad("bad_request", '"auth" needs {"ticket": "..."} from auth/ws-ticket')
            return
        user = await authenticate(ticket)
        if user is None:
            await self._send_now(
                error_frame("bad_ticket", "the ticket is invalid, used or expired")
            )
            await self._close(CLOSE_BAD_TICKET, "bad_ticket")
            return
        self.session.user_id = user.pk
        self._queue({"type": "authenticated", "user": user.pk, "ts": now_iso()})

    async def _bad(self, code: str, message: str) -> None:
        self.errors += 1
        self._queue(error_frame(code, message))
        if self.errors >= settings.STREAM_MAX_ERRORS:
            self._queue(error_frame("too_many_errors", "closing: too many bad messages"))
            await self._flush()
            await self._close(CLOSE_PROTOCOL_ERRORS, "protocol_errors")

    # --- sending ----------------------------------------------------------------------------
    def _queue(self, frame: dict[str, Any]) -> None:
        self.outbox.put_control(frame)
        self.wakeup.set()

    async def _send_now(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=encode(frame))
        DELIVERED.labels("ws", frame["type"]).inc()

    async def _flush(self) -> None:
        while (frame := self.outbox.pop()) is not None:
            await self._send_now(frame)

    async def _send_loop(self) -> None:
        coalesced = 0
        while True:
            await self.wakeup.wait()
            self.wakeup.clear()
            await self.session.drain()
            await self._flush()
            if self.outbox.coalesced != coalesced:
                COALESCED.inc(self.outbox.coalesced - coalesced)
                coalesced = self.outbox.coalesced

    def _tick(self, now: float) -> None:
        """Heartbeats, idle timeout and the slow-client rule (the hub's ticker, twice a
        second, calls this for every connection of the process: no timer per connection;
        it runs 2,000 times a second at 1,000 connections, so it reads no settings)."""
        if self.closing:
            return
        if self.outbox.overloaded():
            logger.info("stream: closing a client that stayed behind")
            self._spawn(self._close(CLOSE_TOO_SLOW, "too_slow"))
            return
        idle = self.idle
        if self.session.subs:
            self.no_subs_since = None
        elif self.no_subs_since is None:
            self.no_subs_since = now
        if self.no_subs_since is not None and now - self.no_subs_since > idle:
            self._queue(error_frame("idle", f"no subscription for {idle} s: closing"))
            self._spawn(self._close_after_flush(CLOSE_IDLE, "idle"))
            return
        if now - self.last_beat >= self.beat:
            self.last_beat = now
            self._queue({"type": "heartbeat", "ts": now_iso()})

    def _spawn(self, work: Any) -> None:
        self.closing_task = asyncio.ensure_future(work)

    async def _close_after_flush(self, code: int, reason: str) -> None:
        await asyncio.sleep(0.05)  # the send loop flushes the error frame first
        await self._close(code, reason)

    async def _close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        self.session.hub.ticker.leave(id(self))
        CLOSED.labels(reason).inc()
        current = asyncio.current_task()
        for task in getattr(self, "tasks", []):
            if task is not current:
                task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.close(code=code, reason=reason), timeout=1.0)
        # End this consumer even if the client never completes the close handshake.
        with contextlib.suppress(Exception):
            await self.channel_layer.send(self.channel_name, {"type": "stream.stop"})

    async def stream_stop(self, event: dict[str, Any]) -> None:
        await self.disconnect(CLOSE_TOO_SLOW)
        raise StopConsumer


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other WebSocket path: accept, say why, close with 4404 (never an HTTP 500)."""

    async def connect(self) -> None:
        await self.accept()
        path = self.scope.get("path", "")
        await self.send(
            text_data=json.dumps(
                error_frame("not_found", f"no stream at {path!r}; use /api/v1/stream/ws")
            )
        )
        await self.close(code=CLOSE_NOT_FOUND, reason="not_found")

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raise StopConsumer
