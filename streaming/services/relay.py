"""Embedded default: each web process relays new ``StreamEvent`` rows to its subscribers.

With no Redis, a Celery worker and daphne are separate processes and nothing in memory can
carry an event between them. The worker's ``publish()`` writes the row (SQLite, WAL); here
one task per event loop polls rows after the last id it saw and hands each message to the
loop's hub (``hub.py``), where WebSocket and SSE sessions are subscribed. Services mode needs
none of this: Redis publishes every appended message to the web processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from .log import DatabaseLog, Message, get_log

logger = logging.getLogger("cryptocast.streaming")


async def start_relay(deliver: Callable[[Message], object]) -> asyncio.Task:
    """Start a relay from the newest row now (returns once it knows where to start from)."""
    log = get_log()
    assert isinstance(log, DatabaseLog)
    start = await database_sync_to_async(log.newest_id)()
    return asyncio.get_running_loop().create_task(_run(log, start, deliver), name="stream-relay")


async def _run(log: DatabaseLog, last_id: int, deliver: Callable[[Message], object]) -> None:
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
            deliver(message)
            last_id = row_id
        if len(rows) < 500:
            await asyncio.sleep(poll)
