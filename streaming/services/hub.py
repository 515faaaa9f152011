"""Process-local fan-out: a stream message reaches a web process once, then one call per subscriber.

Going through the channel layer cost about 0.9 ms per frame per subscriber at 1,000
subscribers: ``InMemoryChannelLayer`` deep-copies every message for every member of a group,
``RedisPubSubChannelLayer`` decodes it once per member, and Channels dispatches each one with a
thread hop (``aclose_old_connections``). Here a message is decoded once per process and handed
to each subscribing session by a plain synchronous call (``StreamSession.deliver``, which only
queues). Messages are shared, never copied: nobody may mutate one.

Where messages come from (``ensure_feed``, one feed per event loop):

- database log (embedded default): the relay polls new ``StreamEvent`` rows (``relay.py``);
- Redis log (services mode): the append script publishes each message on one Redis pub/sub
  channel per database (``RedisLog.live_channel``); one subscription per process reads it.
  After a lost connection every session re-checks its channels against the log, so nothing
  missed during the outage stays missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis.asyncio as aioredis
from django.conf import settings

from .channels import group_name
from .log import Message, RedisLog, backend_name, get_log
from .relay import start_relay

logger = logging.getLogger("cryptocast.streaming")


class Subscriber(Protocol):
    def deliver(self, message: Message) -> None: ...

    def resync(self) -> None: ...


TICK_SECONDS = 0.5  # the finest of those checks is the slow-client limit (10 s)


class Ticker:
    """One timer per event loop for every connection's periodic checks (heartbeat, idle,
    slow client): a thousand connections each sleeping 0.25 s in its own task cost 4,000
    task wake-ups a second; one loop over plain calls every 0.5 s costs about a millisecond."""

    def __init__(self) -> None:
        self.members: dict[int, Callable[[float], None]] = {}
        self.task: asyncio.Task | None = None

    def join(self, key: int, check: Callable[[float], None]) -> None:
        self.members[key] = check
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run(), name="stream-ticker")

    def leave(self, key: int) -> None:
        self.members.pop(key, None)

    async def _run(self) -> None:
        while self.members:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            for check in tuple(self.members.values()):
                try:
                    check(now)
                except Exception:
                    logger.exception("stream ticker: a connection's check failed")


class Hub:
    """Group name -> subscribers of this event loop (insertion-ordered, no duplicates)."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[int, Subscriber]] = {}
        self.ticker = Ticker()

    def join(self, group: str, subscriber: Subscriber) -> None:
        self.groups.setdefault(group, {})[id(subscriber)] = subscriber

    def leave(self, group: str, subscriber: Subscriber) -> None:
        members = self.groups.get(group)
        if members is not None:
            members.pop(id(subscriber), None)
            if not members:
                del self.groups[group]

    def members(self, group: str) -> int:
        return len(self.groups.get(group, ()))

    def deliver(self, message: Message) -> int:
        """Hand ``message`` to every subscriber of its channel; returns how many got it."""
        members = self.groups.get(group_name(message.get("channel", "")))
        if not members:
            return 0
        for subscriber in tuple(members.values()):
            try:
                subscriber.deliver(message)
            except Exception:
                logger.exception("stream hub: a subscriber failed to take a message")
        return len(members)

    def resync(self) -> None:
        """The feed may have missed messages: every subscriber re-checks against the log."""
        seen: dict[int, Subscriber] = {}
        for members in self.groups.values():
            seen.update(members)
        for subscriber in seen.values():
            subscriber.resync()


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}
_feeds: dict[asyncio.AbstractEventLoop, asyncio.Task] = {}
_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


def _forget_closed_loops() -> None:
    for old in [loop for loop in (*_hubs, *_feeds, *_locks) if loop.is_closed()]:
        _hubs.pop(old, None)
        _feeds.pop(old, None)
        _locks.pop(old, None)


def get_hub() -> Hub:
    """The running event loop's hub (daphne has one loop; tests make one per test)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        _forget_closed_loops()
        hub = _hubs[loop] = Hub()
    return hub


async def ensure_feed() -> None:
    """Start this loop's feed once; returns when it will not miss a message published after."""
    loop = asyncio.get_running_loop()
    lock = _locks.setdefault(loop, asyncio.Lock())
    async with lock:
        task = _feeds.get(loop)
        if task is not None and not task.done():
            return
        hub = get_hub()
        if backend_name() == "redis":
            log = get_log()
            assert isinstance(log, RedisLog)
            ready = loop.create_future()
            _feeds[loop] = loop.create_task(_redis_feed(hub, log, ready), name="stream-feed")
            # Subscribed before the caller takes its snapshot (else a gap until the next one).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    asyncio.shield(ready), timeout=settings.STREAM_REDIS_TIMEOUT_SECONDS * 4
                )
        else:
            _feeds[loop] = await start_relay(hub.deliver)


async def stop_feeds() -> None:
    """Tests: cancel the running loop's feed."""
    task = _feeds.pop(asyncio.get_running_loop(), None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def _redis_feed(hub: Hub, log: RedisLog, ready: asyncio.Future) -> None:
    timeout = float(settings.STREAM_REDIS_TIMEOUT_SECONDS)
    failures = 0
    while True:
        client = aioredis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await asyncio.wait_for(pubsub.subscribe(log.live_channel), timeout=timeout * 4)
            if failures:
                logger.info("stream feed: Redis is back; sessions re-check their channels")
                hub.resync()
            failures = 0
            if not ready.done():
                ready.set_result(True)
            while True:
                raw: Any = await pubsub.get_message(timeout=1.0)
                if raw is None or raw.get("type") != "message":
                    continue
                try:
                    message = json.loads(raw["data"])
                except ValueError:
                    logger.warning("stream feed: a message that is not JSON was dropped")
                    continue
                hub.deliver(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            logger.warning("stream feed: Redis subscription lost (attempt %s)", failures)
            await asyncio.sleep(min(0.2 * 2**failures, 5.0))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()
