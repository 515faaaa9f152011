"""``GET /api/v1/stream/sse?channels=...``: Server-Sent Events (an async view, under daphne).

Each event: ``event: snapshot|update|reset|error``, ``id:`` (the seq; with several channels
``channel=seq,...``), ``data:`` the same JSON frame the WebSocket sends. ``Last-Event-ID``
(sent by EventSource on reconnect, or ``?last_event_id=``) resumes from the buffer, else a
``reset`` and a fresh snapshot. ``retry:`` first, a comment keep-alive every
``STREAM_SSE_KEEPALIVE_SECONDS``; on client disconnect Django cancels the generator and the
subscriptions are dropped. Private channels (``notifications``) need the browser session.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from core.errors import envelope
from streaming.services import ChannelError, Outbox, StreamSession, ensure_relay, resolve
from streaming.services.channels import Channel, validate
from streaming.services.metrics import CONNECTIONS, DELIVERED


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
    lines.append("data: " + json.dumps(frame, separators=(",", ":")))
    return "\n".join(lines) + "\n\n"


async def sse_view(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return envelope(status_code=405, code="method_not_allowed", detail="Use GET.")
    user = await request.auser()
    user_id = user.pk if user.is_authenticated else None
    try:
        channels = parse_channels(request.GET.get("channels", ""), user_id=user_id)
        for channel in channels:
            problem = await database_sync_to_async(validate)(channel)
            if problem:
                raise ChannelError("unknown_channel", problem)
    except ChannelError as exc:
        status = 401 if exc.code == "auth_required" else 400
        return envelope(status_code=status, code=exc.code, detail=exc.message, attr="channels")
    last = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id", "")
    positions = parse_last_event_id(last, channels)
    response = StreamingHttpResponse(
        _events(channels, positions, user_id), content_type="text/event-stream; charset=utf-8"
    )
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def _events(
    channels: list[Channel], positions: dict[str, int], user_id: int | None
) -> AsyncIterator[str]:
    layer = get_channel_layer()
    reply = await layer.new_channel("sse.")
    outbox = Outbox(
        max_items=settings.STREAM_MAX_PENDING_ITEMS, slow_after=settings.STREAM_SLOW_CLIENT_SECONDS
    )
    wakeup = asyncio.Event()

    async def join(group: str) -> None:
        await layer.group_add(group, reply)

    async def leave(group: str) -> None:
        await layer.group_discard(group, reply)

    session = StreamSession(
        outbox=outbox,
        join=join,
        leave=leave,
        user_id=user_id,
        max_subscriptions=settings.STREAM_MAX_SUBSCRIPTIONS,
    )

    async def read() -> None:
        while True:
            event = await layer.receive(reply)
            if event.get("type") == "stream.message":
                await session.on_message(event["message"])
                wakeup.set()

    CONNECTIONS.labels("sse").inc()
    reader: asyncio.Task | None = None
    sent = dict(positions)
    try:
        yield f"retry: {int(settings.STREAM_SSE_RETRY_MS)}\n\n"
        await ensure_relay()
        for channel in channels:
            if channel.public in positions:
                await session.resume(channel.public, positions[channel.public])
            else:
                await session.subscribe([channel.public])
        reader = asyncio.create_task(read(), name="sse-read")
        keepalive = float(settings.STREAM_SSE_KEEPALIVE_SECONDS)
        while True:
            frame = outbox.pop()
            if frame is None:
                wakeup.clear()
                try:
                    await asyncio.wait_for(wakeup.wait(), timeout=keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                continue
            if "seq" in frame and frame.get("channel") in session.subs:
                sent[frame["channel"]] = frame["seq"]
            yield format_event(frame, event_id(sent, channels) if "seq" in frame else None)
            DELIVERED.labels("sse", frame["type"]).inc()
            if outbox.overloaded():
                yield format_event(
                    {"type": "error", "code": "too_slow", "message": "client stayed behind"}, None
                )
                return
    finally:
        CONNECTIONS.labels("sse").dec()
        if reader is not None:
            reader.cancel()
        for sub in list(session.subs.values()):
            with contextlib.suppress(Exception):
                await leave(sub.channel.group)
