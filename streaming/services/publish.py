"""``publish()``: the one way data enters the stream (called by the apps that own it)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from .log import get_log
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
        # Redis: the append publishes to the web processes; database: each relays rows.
        # One round trip (Redis) or one transaction (database) for the whole batch.
        get_log().append_many(targets, key=key)
        PUBLISHED.labels(family).inc(len(targets))
    except Exception:
        PUBLISH_FAILURES.labels(family).inc()
        logger.exception("stream publish failed", extra={"channel": channel})
