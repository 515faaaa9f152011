"""Issue 10's "done when", end to end: a replayed price move through the whole chain.

quotes_store (markets) -> quote listener enqueues evaluation (alerts.on_quotes) -> evaluation
task writes the event, the notification and the outbox -> on commit the delivery task is
enqueued -> the delivery task sends it: over the WebSocket ``notifications`` channel
(config.asgi, ticket sign-in, the real stream backend), by mail (locmem outbox) and to a
webhook on a loopback HTTP server — each exactly once, and re-running anything sends nothing.

Tasks are called directly (no eager mode): a task's publish only records what would have been
sent to the broker, and the test runs those messages itself, in order, like a worker would.
Prices are hand-made (a replay of a crossing), not recorded data.

Runs on the embedded default and on PostgreSQL + Redis (DATABASE_URL / REDIS_URL).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core import mail

from config.asgi import application
from streaming import services as stream

pytestmark = [pytest.mark.django_db(transaction=True)]

WS = "/api/v1/stream/ws"
ORIGIN = [(b"origin", b"http://localhost:8000")]
THRESHOLD = 100_000.0


class _Receiver(BaseHTTPRequestHandler):
    seen: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver(settings: Any) -> Iterator[tuple[str, type[_Receiver]]]:
    settings.ALERTS_WEBHOOK_ALLOW_HTTP = True
    settings.ALERTS_WEBHOOK_ALLOW_PRIVATE = True  # the test server is on loopback
    _Receiver.seen = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", _Receiver
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _fast_stream(settings: Any) -> Iterator[None]:
    settings.STREAM_RELAY_POLL_SECONDS = 0.05
    stream.reset_log()
    stream.clear_snapshot_cache()
    yield
    stream.reset_log()
    stream.clear_snapshot_cache()


@pytest.fixture
def broker(task_stub: Any) -> list[tuple[str, dict[str, Any]]]:
    """The broker: messages the code enqueues, for the test to run as the worker."""
    sent: list[tuple[str, dict[str, Any]]] = []
    for name in ("evaluate_assets", "deliver"):
        task_stub(
            f"alerts.{name}",
            lambda *a, _n=name, **kw: sent.append((_n, dict(kw.get("kwargs") or {}))),
        )
    return sent


def _store(price: float, at: datetime) -> None:
    from markets.contracts import AssetData, QuoteBatch, QuoteData
    from markets.services import quotes_store

    btc = AssetData(slug="bitcoin", symbol="BTC", name="Bitcoin", rank=1)
    quote = QuoteData(asset=btc, price=price, source="replay", as_of=at, fetched_at=at)
    quotes_store(batch=QuoteBatch(quotes=(quote,), source="replay"))


def _work(broker: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Any]]:
    """Run every enqueued message (and what they enqueue) like a worker; what each returned."""
    from alerts import tasks

    done = []
    while broker:
        name, kwargs = broker.pop(0)
        done.append((name, getattr(tasks, name)(**kwargs)))
    return done


def _setup(user: Any, url: str) -> Any:
    from alerts import services

    services.preference_update(user=user, push=True, email=True, webhook=True)
    services.webhook_create(user=user, url=url)
    _store(THRESHOLD - 1_000, datetime.now(UTC) - timedelta(seconds=30))  # the coin exists
    return services.alert_create(
        user=user, asset_id="bitcoin", kind="crosses_above", params={"value": THRESHOLD}
    )


async def _until(comm: WebsocketCommunicator, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"no {kind} frame within {timeout}s"
        frame = await comm.receive_json_from(timeout=left)
        if frame["type"] == kind:
            return frame


async def test_a_replayed_crossing_reaches_the_user_once_on_every_channel(
    user: Any, receiver: tuple[str, type[_Receiver]], broker: list[tuple[str, dict[str, Any]]]
) -> None:
    from accounts.services import ws_ticket_issue
    from alerts.models import AlertEvent, AlertState, Delivery, Notification

    url, rx = receiver
    alert = await sync_to_async(_setup)(user, url)
    await sync_to_async(_work)(broker)  # the set-up quote's evaluation: the first observation

    raw, _ = await sync_to_async(ws_ticket_issue)(user=user)
    comm = WebsocketCommunicator(application, f"{WS}?ticket={raw}", headers=ORIGIN)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    assert (await _until(comm, "welcome"))["user"] is not None
    await comm.send_to(text_data=json.dumps({"action": "subscribe", "channels": ["notifications"]}))
    await _until(comm, "subscribed")

    # first observation below the line: remembered, never fires
    await sync_to_async(_store)(THRESHOLD - 500, datetime.now(UTC) - timedelta(seconds=10))
    assert [n for n, _ in broker] == ["evaluate_assets"]
    assert broker[0][1] == {"asset_ids": ["bitcoin"]}
    await sync_to_async(_work)(broker)
    assert not await sync_to_async(AlertEvent.objects.exists)()
    state = await sync_to_async(AlertState.objects.get)(alert=alert)
    assert state.last_value == THRESHOLD - 500

    # then above: the crossing fires, the outbox is written and handed to the worker
    await sync_to_async(_store)(THRESHOLD + 250, datetime.now(UTC))
    done = await sync_to_async(_work)(broker)
    assert [n for n, _ in done] == ["evaluate_assets", "deliver"]
    assert done[0][1]["fired"] == 1
    assert set(done[1][1].values()) == {"sent"}

    event = await sync_to_async(AlertEvent.objects.get)(alert=alert, notified=True)
    assert event.to_state == "firing" and event.value == THRESHOLD + 250
    assert event.source == "replay" and event.as_of is not None
    note = await sync_to_async(Notification.objects.get)(user=user)
    assert note.event_id == event.pk
    channels = sorted(await sync_to_async(list)(Delivery.objects.values_list("channel", "status")))
    assert channels == [("email", "sent"), ("push", "sent"), ("webhook", "sent")]

    frame = await _until(comm, "update")
    assert frame["channel"] == "notifications"
    [item] = frame["data"]
    assert item["notification_id"] == note.pk and item["coin"] == "bitcoin"
    assert item["source"] == "replay" and item["as_of"]

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email] and "bitcoin" in mail.outbox[0].subject

    assert len(rx.seen) == 1
    headers, body = rx.seen[0]
    payload = json.loads(body)
    assert payload["notification_id"] == note.pk and payload["coin"] == "bitcoin"
    assert headers["Idempotency-Key"] == payload["id"]
    assert headers["X-Cryptocast-Signature"].startswith("t=")

    # re-running everything sends nothing twice
    from alerts import tasks

    delivery_ids = await sync_to_async(list)(Delivery.objects.values_list("id", flat=True))
    again = await sync_to_async(tasks.deliver)(delivery_ids=delivery_ids)
    assert set(again.values()) == {"skipped"}
    report = await sync_to_async(tasks.evaluate_assets)(asset_ids=["bitcoin"])
    assert report["fired"] == 0
    sweep = await sync_to_async(tasks.sweep)()
    assert sweep["fired"] == 0 and sweep["deliveries"] == 0
    await sync_to_async(_work)(broker)  # whatever those enqueued (nothing should be due)
    # a marker published after the re-runs is the next update: no repeat came before it
    await sync_to_async(stream.publish)(
        channel=f"notifications:{user.pk}", items=[{"id": "marker"}], key="id"
    )
    assert (await _until(comm, "update"))["data"] == [{"id": "marker"}]
    assert len(mail.outbox) == 1 and len(rx.seen) == 1
    assert await sync_to_async(AlertEvent.objects.filter(notified=True).count)() == 1
    assert await sync_to_async(Notification.objects.count)() == 1
    await comm.disconnect()
