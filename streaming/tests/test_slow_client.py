"""A client that never reads cannot grow the server's memory, and is closed with 4429.

The consumer is driven by a hand-written ASGI harness: after ``websocket.accept`` every
``send`` blocks forever, which is what a server sees under TCP backpressure from a client that
stopped reading. Updates are handed straight to the loop's hub (as the relay and the Redis
feed do), thousands of them on several channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import tracemalloc
import uuid
from typing import Any

import pytest

from streaming import services as stream
from streaming.consumers import StreamConsumer
from streaming.services import channels as stream_channels
from streaming.services.channels import group_name
from streaming.services.log import now_iso

COINS = ["coin-a", "coin-b", "coin-c", "coin-d", "coin-e"]
CHANNELS = ["quotes:*", *(f"quotes:{c}" for c in COINS)]
PAD = "x" * 300  # makes an unbounded queue obvious: ~0.5 KB per update


class Probe(StreamConsumer):
    """The consumer under test, reachable from the test (its outbox and session)."""

    instances: list[Probe] = []

    async def connect(self) -> None:
        Probe.instances.append(self)
        await super().connect()


class StuckClient:
    """ASGI peer that accepts, sends one subscribe, then never reads a frame."""

    def __init__(self, channels: list[str]) -> None:
        import json

        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.inbox.put_nowait(
            {
                "type": "websocket.receive",
                "text": json.dumps({"action": "subscribe", "channels": channels}),
            }
        )
        self.sent: list[dict[str, Any]] = []
        self.accepted = asyncio.Event()
        self.close_attempted = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)
        if message["type"] == "websocket.accept":
            self.accepted.set()
            return
        if message["type"] == "websocket.close":
            self.close_attempted.set()
        await asyncio.Event().wait()  # the socket buffer is full: this write never completes


def scope() -> dict[str, Any]:
    return {
        "type": "websocket",
        "path": "/api/v1/stream/ws",
        "raw_path": b"/api/v1/stream/ws",
        "query_string": b"",
        "headers": [],
        "subprotocols": [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


@pytest.fixture
def stuck_env(settings, transactional_db, monkeypatch):  # type: ignore[no-untyped-def]
    """In-process layer and the database log: deterministic on every configuration.

    The quotes family's owner (markets) sits above streaming: its key check and snapshot are
    replaced by stand-ins that know the test's coins.
    """
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.STREAM_BACKEND = "database"
    settings.STREAM_HEARTBEAT_SECONDS = 3600
    monkeypatch.setitem(
        stream_channels._validators,
        "quotes",
        lambda name: None if name.split(":")[1] in ("*", *COINS) else "unknown coin",
    )
    monkeypatch.setitem(stream_channels._snapshots, "quotes", lambda name: [])
    stream.reset_log()
    stream.clear_snapshot_cache()
    Probe.instances.clear()
    yield
    stream.reset_log()
    stream.clear_snapshot_cache()


async def start(client: StuckClient) -> tuple[asyncio.Task, Probe]:
    app = Probe.as_asgi()
    task = asyncio.create_task(app(scope(), client.receive, client.send))
    async with asyncio.timeout(10):
        await client.accepted.wait()
        while not Probe.instances or len(Probe.instances[0].session.subs) < len(CHANNELS):
            await asyncio.sleep(0.01)
    return task, Probe.instances[0]


def message(channel: str, seq: int, round_: int) -> dict[str, Any]:
    coins = COINS if channel == "quotes:*" else [channel.split(":", 1)[1]]
    return {
        "channel": channel,
        "seq": seq,
        "ts": now_iso(),
        "key": "id",
        "data": [{"id": c, "price": 100.0 + round_, "pad": PAD} for c in coins],
    }


async def publish_rounds(consumer: Probe, first: int, rounds: int) -> None:
    """One update per channel per round, each handled before the next.

    One deadline for the whole call: a timer per round would leave a cancelled handle in the
    loop's heap until it was due, which tracemalloc counts as growth.
    """
    hub = stream.get_hub()
    async with asyncio.timeout(30):
        for r in range(first, first + rounds):
            for channel in CHANNELS:
                assert hub.deliver(message(channel, r, r)) == 1
            while any(consumer.session.subs[c].last_seq < r for c in CHANNELS):
                await asyncio.sleep(0)


async def stop(task: asyncio.Task, client: StuckClient) -> None:
    client.inbox.put_nowait({"type": "websocket.disconnect", "code": 1006})
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def test_a_client_that_never_reads_keeps_a_bounded_outbox(stuck_env, settings):
    settings.STREAM_SLOW_CLIENT_SECONDS = 600  # measure memory, not the close
    client = StuckClient(CHANNELS)
    task, consumer = await start(client)
    try:
        await publish_rounds(consumer, 1, 50)  # warm up every code path
        gc.collect()
        tracemalloc.start()
        try:
            # Three equal parts of 250 rounds (~375 KB each if updates were queued). A bounded
            # outbox may pay a one-off cost in any one part (a dict or an arena growing once,
            # or another test's leftover thread allocating while this one runs: tracemalloc
            # sees every thread), but a leak grows in every part. So the two smallest parts
            # must stay small; together they would hold ~750 KB if updates were kept.
            rounds, part = 750, 250
            marks = [tracemalloc.get_traced_memory()[0]]
            for first in range(51, 51 + rounds, part):
                await publish_rounds(consumer, first, part)
                gc.collect()
                marks.append(tracemalloc.get_traced_memory()[0])
            parts = sorted(b - a for a, b in itertools.pairwise(marks))
        finally:
            tracemalloc.stop()
        outbox = consumer.outbox
        # one pending update per channel, holding the latest item per key
        assert len(outbox.updates) <= len(CHANNELS)
        assert outbox.items_pending() <= len(COINS) * 2
        assert len(outbox.control) <= outbox.max_control
        assert outbox.coalesced >= rounds * len(CHANNELS)
        pending = outbox.updates["quotes:*"]
        assert pending["seq"] == 50 + rounds and pending["data"][0]["price"] == 100.0 + 50 + rounds
        assert parts[0] + parts[1] < 256 * 1024, f"memory kept growing by part: {parts} bytes"
        # only the accept and the first frame ever reached the socket
        assert len(client.sent) <= 2
    finally:
        await stop(task, client)


async def test_a_client_that_stays_behind_is_closed_with_4429(stuck_env, settings):
    settings.STREAM_SLOW_CLIENT_SECONDS = 0.5
    client = StuckClient(CHANNELS)
    task, consumer = await start(client)
    hub = stream.get_hub()
    try:
        await publish_rounds(consumer, 1, 20)
        async with asyncio.timeout(10):
            await client.close_attempted.wait()
            await asyncio.shield(task)  # the consumer ends even though the close never completes
        close = next(m for m in client.sent if m["type"] == "websocket.close")
        assert close["code"] == 4429
        assert not any(hub.members(group_name(c)) for c in CHANNELS)  # left every group
    finally:
        await stop(task, client)


class Catcher:
    """A hub subscriber that keeps what it is given."""

    def __init__(self) -> None:
        self.got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    def deliver(self, message: dict[str, Any]) -> None:
        self.got.put_nowait(message)

    def resync(self) -> None:
        pass


@pytest.mark.redis
async def test_the_redis_feed_hands_over_what_another_thread_publishes(settings):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs a real Redis (REDIS_URL)")
    settings.STREAM_BACKEND = "redis"
    stream.reset_log()
    try:
        await stream.ensure_feed()
        channel = f"news:t-{uuid.uuid4().hex[:12]}"  # nobody else publishes here
        catcher = Catcher()
        stream.get_hub().join(group_name(channel), catcher)
        item = {"id": 1, "title": "published by a worker thread"}
        await asyncio.to_thread(stream.publish, channel=channel, items=[item])
        got = await asyncio.wait_for(catcher.got.get(), timeout=10)
        assert got["channel"] == channel and got["seq"] == 1
        assert got["data"] == [item]
        stream.get_hub().leave(group_name(channel), catcher)
    finally:
        await stream.stop_feeds()
        stream.reset_log()
