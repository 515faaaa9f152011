"""Embedded default: each web process relays new ``StreamEvent`` rows to its subscribers.

With no Redis, a Celery worker and daphne are separate processes and an in-memory channel
layer cannot carry an event between them. The worker's ``publish()`` writes the row (SQLite,
WAL); here one task per event loop polls rows after the last id it saw and hands them to the
local (in-memory) channel layer, where consumers and SSE streams are subscribed. Services mode
needs none of this: ``publish()`` sends through ``RedisPubSubChannelLayer`` directly.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from .channels import group_name
from .log import DatabaseLog, backend_name, get_log

logger = logging.getLogger("cryptocast.streaming")

_tasks: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


async def ensure_relay() -> None:
    """Start this loop's relay once (returns after it knows where to start from)."""
    if backend_name() != "database":
        return
    loop = asyncio.get_running_loop()
    for old in [k for k in _tasks if k.is_closed()]:
        _tasks.pop(old, None)
        _locks.pop(old, None)
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        task = _tasks.get(loop)
        if task is not None and not task.done():
            return
        log = get_log()
        assert isinstance(log, DatabaseLog)
        start = await database_sync_to_async(log.newest_id)()
        _tasks[loop] = loop.create_task(_run(log, start), name="stream-relay")


async def _run(log: DatabaseLog, last_id: int) -> None:
    layer = get_channel_layer()
    poll = float(settings.STREAM_RELAY_POLL_SECONDS)
    failures = 0
    while True:
        try:
            rows = await database_sync_to_async(log.after_id)(last_id)
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            logger.exception("stream relay: reading new events failed")
            await asyncio.sleep(min(poll * 2**failures, 10.0))
            continue
        for row_id, message in rows:
            try:
                await layer.group_send(
                    group_name(message["channel"]), {"type": "stream.message", "message": message}
                )
            except Exception:
                logger.exception("stream relay: group_send failed")
            last_id = row_id
        if len(rows) < 500:
            await asyncio.sleep(poll)
