"""Reads of the stream: a channel's snapshot (with the seq to resume from) and catch-up."""

from __future__ import annotations

import threading
import time
from typing import Any

from .channels import Channel, fresh_snapshot
from .log import Message, get_log, now_iso

_SNAPSHOT_TTL = 1.0
_snap_lock = threading.Lock()
_snap_cache: dict[tuple[str, int, str], tuple[float, list[dict[str, Any]]]] = {}


def _merged(messages: list[Message], key: str) -> list[dict[str, Any]]:
    items: dict[Any, dict[str, Any]] = {}
    for message in messages:
        for item in message["data"]:
            items[item.get(key)] = item
    return list(items.values())


def snapshot(channel: Channel) -> dict[str, Any]:
    """``{"type": "snapshot", "channel", "seq", "ts", "key", "data"}`` of the current state.

    ``seq`` is read first, so every message after it is delivered as an update (an update
    already contained in the snapshot is harmless: latest value wins). The owning app's fresh
    state is used when it registered one, else the buffered messages merged by key. A
    snapshot is reused for a second while the channel's seq has not moved (a thousand
    subscribers connecting at once cost one build).
    """
    log = get_log()
    head = log.head(channel.internal)
    epoch = log.epoch(channel.internal)
    cache_key = (channel.internal, head, epoch)  # seqs repeat after a log restart
    now = time.monotonic()
    with _snap_lock:
        hit = _snap_cache.get(cache_key)
    if hit is not None and now - hit[0] < _SNAPSHOT_TTL:
        data = hit[1]
    else:
        fresh = fresh_snapshot(channel)
        data = (
            fresh
            if fresh is not None
            else _merged(log.recent(channel.internal), channel.family.key)
        )
        with _snap_lock:
            if len(_snap_cache) > 2000:
                _snap_cache.clear()
            _snap_cache[cache_key] = (now, data)
    return {
        "type": "snapshot",
        "channel": channel.public,
        "seq": head,
        "epoch": epoch,
        "ts": now_iso(),
        "key": channel.family.key,
        "data": data,
    }


def catch_up(channel: Channel, after_seq: int) -> list[Message] | None:
    """Messages after ``after_seq`` from the buffer, or None when a reset is needed."""
    return get_log().since(channel.internal, after_seq)


def head(channel: Channel) -> int:
    return get_log().head(channel.internal)


def clear_snapshot_cache() -> None:
    with _snap_lock:
        _snap_cache.clear()


def epoch(channel: Channel) -> str:
    """The epoch of the channel's log: it changes when the counters start again."""
    return get_log().epoch(channel.internal)
