"""``publish()``: the one way data enters the stream (called by the apps that own it)."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings

from .channels import group_name
from .log import Message, backend_name, get_log
from .metrics import PUBLISH_FAILURES, PUBLISHED

logger = logging.getLogger("cryptocast.streaming")


def publish(
    *,
    channel: str,
    items: Sequence[Mapping[str, Any]],
    key: str = "id",
    fanout: bool = False,
) -> None:
    """Append ``items`` to ``channel`` (a new ``seq``) and relay them to its subscribers.

    ``fanout=True`` with a family name (``"quotes"``) publishes the batch on ``quotes:*`` and
    each item on ``quotes:<item[key]>``. Call on commit. Never raises: a failure is logged and
    counted in ``cryptocast_stream_publish_failures_total``; the caller's write stands.
    """
    family = channel.split(":", 1)[0]
    if not items:
        return
    try:
        data = [dict(i) for i in items]
        targets: list[tuple[str, list[dict[str, Any]]]]
        if fanout:
            targets = [(f"{channel}:*", data)]
            targets += [(f"{channel}:{item[key]}", [item]) for item in data]
        else:
            targets = [(channel, data)]
        log = get_log()
        for name, chunk in targets:
            message = log.append(name, chunk, key=key)
            PUBLISHED.labels(family).inc()
            if backend_name() == "redis":
                _layer_sender().send(group_name(name), message)
            # database backend: every web process relays new rows itself (relay.py)
    except Exception:
        PUBLISH_FAILURES.labels(family).inc()
        logger.exception("stream publish failed", extra={"channel": channel})


class _LayerSender:
    """Sends to the channel layer from sync code through one background event loop.

    One loop per process keeps one Redis connection (not one per publish) and bounds every
    send by a timeout, so a stalled Redis cannot hang a worker.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="stream-publisher", daemon=True
        )
        self.thread.start()

    def send(self, group: str, message: Message) -> None:
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        event = {"type": "stream.message", "message": message}
        future = asyncio.run_coroutine_threadsafe(layer.group_send(group, event), self.loop)
        future.result(timeout=max(0.5, settings.STREAM_REDIS_TIMEOUT_SECONDS * 4))


_sender_lock = threading.Lock()
_sender: _LayerSender | None = None


def _layer_sender() -> _LayerSender:
    global _sender
    with _sender_lock:
        if _sender is None:
            _sender = _LayerSender()
        return _sender
