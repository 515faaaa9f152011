"""WebSocket stream end to end through config.asgi (origin check, ticket auth, consumer).

Runs on whichever backend the environment selects: the database log + embedded relay on the
default, the Redis log + RedisPubSubChannelLayer when REDIS_URL is set (CI).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from markets.tests.data_helpers import asset_data, quote, store
from streaming import services as stream

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.smoke]

WS = "/api/v1/stream/ws"
ORIGIN = [(b"origin", b"http://localhost:8000")]


@pytest.fixture(autouse=True)
def _fast_stream(settings):  # type: ignore[no-untyped-def]
    settings.STREAM_RELAY_POLL_SECONDS = 0.05
    settings.STREAM_BUFFER_SIZE = 20
    stream.reset_log()
    stream.clear_snapshot_cache()
    stream.convert.forget()
    yield
    stream.reset_log()
    stream.clear_snapshot_cache()
    stream.convert.forget()


@pytest.fixture
def coins(db):  # type: ignore[no-untyped-def]
    store(
        quote(asset_data("bitcoin", "BTC", 1), 100_000.0, source="replay"),
        quote(asset_data("ethereum", "ETH", 2), 3_000.0, source="replay"),
    )


async def connect(path: str = WS, headers=ORIGIN) -> tuple[WebsocketCommunicator, dict]:  # type: ignore[no-untyped-def]
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    welcome = await comm.receive_json_from(timeout=5)
    return comm, welcome


async def send(comm: WebsocketCommunicator, **msg) -> None:  # type: ignore[no-untyped-def]
    await comm.send_to(text_data=json.dumps(msg))


async def until(comm: WebsocketCommunicator, kind: str, timeout: float = 5.0) -> dict:
    """The next frame of type ``kind`` (heartbeats and other frames are skipped)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        assert left > 0, f"no {kind} frame within {timeout}s"
        frame = await comm.receive_json_from(timeout=left)
        if frame["type"] == kind:
            return frame


async def publish_price(slug: str, symbol: str, rank: int, price: float) -> None:
    await sync_to_async(store)(quote(asset_data(slug, symbol, rank), price, source="replay"))


async def test_welcome_says_limits_and_actions(coins):
    comm, welcome = await connect()
    assert welcome["type"] == "welcome" and welcome["user"] is None
    assert set(welcome["actions"]) >= {"subscribe", "unsubscribe", "resume", "ping"}
    assert welcome["limits"]["max_subscriptions"] > 0
    await comm.disconnect()


async def test_subscribe_gets_a_snapshot_then_updates_with_monotonic_seq(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    snap = await until(comm, "snapshot")
    assert snap["channel"] == "quotes:bitcoin" and snap["data"][0]["price"] == 100_000.0
    assert (await until(comm, "subscribed"))["channels"] == ["quotes:bitcoin"]
    seqs = []
    for price in (100_001.0, 100_002.0, 100_003.0):
        await publish_price("bitcoin", "BTC", 1, price)
        frame = await until(comm, "update")
        assert frame["channel"] == "quotes:bitcoin"
        assert frame["data"][0]["price"] == price
        seqs.append(frame["seq"])
    assert seqs == [snap["seq"] + 1, snap["seq"] + 2, snap["seq"] + 3]
    await comm.disconnect()


async def test_the_wildcard_channel_carries_every_coin(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:*"])
    snap = await until(comm, "snapshot")
    assert {d["id"] for d in snap["data"]} == {"bitcoin", "ethereum"}
    await publish_price("ethereum", "ETH", 2, 3_100.0)
    frame = await until(comm, "update")
    assert frame["channel"] == "quotes:*" and frame["data"][0]["id"] == "ethereum"
    await comm.disconnect()


async def test_unsubscribe_stops_updates(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin", "quotes:ethereum"])
    await until(comm, "subscribed")
    await send(comm, action="unsubscribe", channels=["quotes:bitcoin"])
    assert (await until(comm, "unsubscribed"))["channels"] == ["quotes:bitcoin"]
    await publish_price("bitcoin", "BTC", 1, 1.0)
    await publish_price("ethereum", "ETH", 2, 2.0)
    frame = await until(comm, "update")
    assert frame["channel"] == "quotes:ethereum"  # nothing for bitcoin came first
    await comm.disconnect()


async def test_a_reconnecting_client_resumes_without_loss_or_duplicates(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    snap = await until(comm, "snapshot")
    await publish_price("bitcoin", "BTC", 1, 1.0)
    first = await until(comm, "update")
    await comm.disconnect()
    for price in (2.0, 3.0, 4.0):  # published while the client is away
        await publish_price("bitcoin", "BTC", 1, price)
    comm, _ = await connect()
    await send(comm, action="resume", channel="quotes:bitcoin", after_seq=first["seq"])
    frame = await until(comm, "update")
    # the missed updates arrive as one coalesced frame spanning exactly the gap
    assert frame["from_seq"] == first["seq"] + 1 == snap["seq"] + 2
    assert frame["seq"] == snap["seq"] + 4
    assert frame["data"][-1]["price"] == 4.0
    await publish_price("bitcoin", "BTC", 1, 5.0)
    nxt = await until(comm, "update")
    assert nxt["from_seq"] == nxt["seq"] == frame["seq"] + 1  # no duplicate, no gap
    await comm.disconnect()


async def test_resume_from_too_far_back_gets_a_reset_and_a_fresh_snapshot(coins, settings):
    settings.STREAM_BUFFER_SIZE = 3
    comm, _ = await connect()
    for price in range(1, 8):
        await publish_price("bitcoin", "BTC", 1, float(price))
    await send(comm, action="resume", channel="quotes:bitcoin", after_seq=1)
    reset = await until(comm, "reset")
    assert reset["reason"] == "too_old" and reset["after_seq"] == 1
    snap = await until(comm, "snapshot")
    assert snap["seq"] == reset["seq"] and snap["data"][0]["price"] == 7.0
    await comm.disconnect()


async def test_resume_ahead_of_the_server_is_a_reset(coins):
    comm, _ = await connect()
    await send(comm, action="resume", channel="quotes:bitcoin", after_seq=10_000)
    reset = await until(comm, "reset")
    assert reset["reason"] == "ahead_of_server"
    await until(comm, "snapshot")
    await comm.disconnect()


async def test_bad_messages_get_an_error_frame_and_the_socket_stays_open(coins):
    comm, _ = await connect()
    await comm.send_to(text_data="{not json")
    assert (await until(comm, "error"))["code"] == "bad_json"
    await send(comm, action="dance")
    err = await until(comm, "error")
    assert err["code"] == "unknown_action" and "subscribe" in err["message"]
    await send(comm, action="subscribe", channels="quotes:bitcoin")
    assert (await until(comm, "error"))["code"] == "bad_request"
    await send(comm, action="subscribe", channels=["quotes:not-a-coin", "weather:paris"])
    codes = [(await until(comm, "error"))["code"] for _ in range(2)]
    assert codes == ["unknown_channel", "unknown_channel"]
    await comm.send_to(text_data=json.dumps({"action": "ping", "pad": "x" * 10_000}))
    assert (await until(comm, "error"))["code"] == "too_large"
    await send(comm, action="ping", id=7)
    assert (await until(comm, "pong"))["id"] == 7
    await comm.disconnect()


async def test_too_many_bad_messages_close_with_4400(coins, settings):
    settings.STREAM_MAX_ERRORS = 3
    comm, _ = await connect()
    for _ in range(3):
        await comm.send_to(text_data="nope")
    while True:
        out = await comm.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            assert out["code"] == 4400
            break


async def test_subscriptions_per_connection_are_limited(coins, settings):
    settings.STREAM_MAX_SUBSCRIPTIONS = 1
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin", "quotes:ethereum"])
    err = await until(comm, "error")
    assert err["code"] == "too_many_subscriptions" and err["channel"] == "quotes:ethereum"
    assert (await until(comm, "subscribed"))["channels"] == ["quotes:bitcoin"]
    await comm.disconnect()


async def test_notifications_need_a_signed_in_connection(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["notifications"])
    assert (await until(comm, "error"))["code"] == "auth_required"
    await comm.disconnect()


async def _ticket(user):  # type: ignore[no-untyped-def]
    from accounts.services import ws_ticket_issue

    raw, _ = await sync_to_async(ws_ticket_issue)(user=user)
    return raw


async def test_a_valid_ticket_signs_the_connection_in_for_its_notifications(coins, user):
    ticket = await _ticket(user)
    comm, welcome = await connect(f"{WS}?ticket={ticket}")
    assert welcome["user"] == user.pk
    await send(comm, action="subscribe", channels=["notifications"])
    await until(comm, "snapshot")
    await sync_to_async(stream.publish)(
        channel=f"notifications:{user.pk}", items=[{"id": 1, "title": "BTC above 100k"}]
    )
    frame = await until(comm, "update")
    assert frame["channel"] == "notifications" and frame["data"][0]["title"] == "BTC above 100k"
    await comm.disconnect()


async def test_a_ticket_works_once(coins, user):
    ticket = await _ticket(user)
    comm, _ = await connect(f"{WS}?ticket={ticket}")
    await comm.disconnect()
    again = WebsocketCommunicator(application, f"{WS}?ticket={ticket}", headers=ORIGIN)
    connected, _ = await again.connect(timeout=5)
    assert connected
    assert (await again.receive_json_from(timeout=5))["code"] == "bad_ticket"
    out = await again.receive_output(timeout=5)
    assert out["type"] == "websocket.close" and out["code"] == 4401


async def test_an_expired_ticket_is_refused(coins, user, time_machine):
    ticket = await _ticket(user)
    time_machine.move_to(timezone.now() + timedelta(minutes=5))
    comm = WebsocketCommunicator(application, f"{WS}?ticket={ticket}", headers=ORIGIN)
    await comm.connect(timeout=5)
    assert (await comm.receive_json_from(timeout=5))["code"] == "bad_ticket"
    assert (await comm.receive_output(timeout=5))["code"] == 4401


async def test_a_ticket_can_also_come_in_an_auth_message(coins, user):
    comm, _ = await connect()
    await send(comm, action="auth", ticket=await _ticket(user))
    assert (await until(comm, "authenticated"))["user"] == user.pk
    await send(comm, action="subscribe", channels=["notifications"])
    await until(comm, "snapshot")
    await comm.disconnect()


async def test_a_foreign_origin_is_refused_at_the_handshake(coins):
    comm = WebsocketCommunicator(application, WS, headers=[(b"origin", b"https://evil.example")])
    connected, _ = await comm.connect(timeout=5)
    assert not connected


async def test_clients_without_an_origin_header_are_not_browsers_and_may_connect(coins):
    comm, welcome = await connect(headers=[])
    assert welcome["type"] == "welcome"
    await comm.disconnect()


async def test_an_unknown_websocket_path_says_so_and_closes_with_4404():
    comm = WebsocketCommunicator(application, "/ws/nothing-here", headers=ORIGIN)
    connected, _ = await comm.connect(timeout=5)
    assert connected
    assert (await comm.receive_json_from(timeout=5))["code"] == "not_found"
    assert (await comm.receive_output(timeout=5))["code"] == 4404


async def test_a_connection_without_subscriptions_times_out_with_4408(coins, settings):
    settings.STREAM_IDLE_TIMEOUT_SECONDS = 0.5
    comm, _ = await connect()
    while True:
        out = await comm.receive_output(timeout=5)
        if out["type"] == "websocket.close":
            assert out["code"] == 4408
            break


async def test_heartbeats_arrive_on_schedule(coins, settings):
    settings.STREAM_HEARTBEAT_SECONDS = 0.3
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    beat = await until(comm, "heartbeat", timeout=3)
    assert beat["ts"].endswith("Z")
    await comm.disconnect()


async def test_one_quote_shape_over_rest_the_stream_and_the_snapshot_endpoint(coins):
    """The same quote has the same fields and values over /prices, /cryptocurrencies/{id},
    the WebSocket and GET stream/snapshot (built by one function)."""
    from rest_framework.test import APIClient

    from markets.payloads import QUOTE_FIELDS

    def rest() -> tuple[dict, dict, dict]:
        client = APIClient()
        prices = client.get("/api/v1/prices?ids=bitcoin").json()["data"]["bitcoin"]
        detail = client.get("/api/v1/cryptocurrencies/bitcoin").json()
        snap = client.get("/api/v1/stream/snapshot?channels=quotes:bitcoin").json()
        return prices, detail, snap

    prices, detail, snap = await sync_to_async(rest)()
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    ws = (await until(comm, "snapshot"))["data"][0]
    await comm.disconnect()
    rest_snap = snap["channels"]["quotes:bitcoin"]["data"][0]
    assert set(prices) == set(ws) == set(rest_snap) == set(QUOTE_FIELDS)
    for field in QUOTE_FIELDS:
        assert prices[field] == ws[field] == rest_snap[field] == detail[field], field
    assert ws["as_of"].endswith("Z") and ws["source"] == "replay"
    assert snap["channels"]["quotes:bitcoin"]["seq"] >= 0


def test_snapshot_endpoint_refuses_bad_channels_in_the_envelope(db, api_client):
    r = api_client.get("/api/v1/stream/snapshot?channels=weather:paris")
    assert r.status_code == 400
    body = r.json()
    assert body["type"] == "validation_error" and body["errors"][0]["attr"] == "channels"
    r = api_client.get("/api/v1/stream/snapshot?channels=notifications")
    assert r.status_code == 401
    r = api_client.get("/api/v1/stream/snapshot")
    assert r.status_code == 400


def test_a_failing_stream_never_breaks_ingestion(db, monkeypatch):
    """publish() logs and counts a broken log backend; the quote write stands."""
    from prometheus_client import REGISTRY

    from markets.models import Quote
    from streaming.services import log as stream_log

    class Broken:
        name = "broken"

        def append(self, *a, **k):  # type: ignore[no-untyped-def]
            raise ConnectionError("redis down")

    monkeypatch.setattr(stream_log, "_log", Broken())
    before = (
        REGISTRY.get_sample_value("cryptocast_stream_publish_failures_total", {"family": "quotes"})
        or 0.0
    )
    store(quote(asset_data("bitcoin", "BTC", 1), 1.0, source="replay"))
    assert Quote.objects.filter(asset_id="bitcoin").exists()
    after = REGISTRY.get_sample_value(
        "cryptocast_stream_publish_failures_total", {"family": "quotes"}
    )
    assert after == before + 1


async def test_a_log_that_starts_again_resets_subscribers_instead_of_dropping_updates(coins):
    """Redis keeps nothing on disk: after a restart the seqs start again at 1 with a new
    epoch. A connected subscriber gets a reset and a fresh snapshot, never silence, and no
    cached frame of the old numbering is replayed."""
    from streaming.services import log as stream_log

    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    snap = await until(comm, "snapshot")
    for price in (1.0, 2.0, 3.0):
        await publish_price("bitcoin", "BTC", 1, price)
        await until(comm, "update")
    log = stream_log.get_log()
    if isinstance(log, stream_log.RedisLog):
        await sync_to_async(log.client.flushdb)()  # what a Redis restart does
    else:
        from streaming.models import StreamChannel, StreamEvent

        def wipe() -> None:
            StreamEvent.objects.all().delete()
            StreamChannel.objects.all().delete()

        await sync_to_async(wipe)()
        await comm.disconnect()
        return  # the database log keeps one epoch; wiping it is not something that happens
    await publish_price("bitcoin", "BTC", 1, 42.0)
    reset = await until(comm, "reset")
    assert reset["reason"] == "log_restarted" and reset["epoch"] != snap["epoch"]
    fresh = await until(comm, "snapshot")
    assert fresh["data"][0]["price"] == 42.0
    await publish_price("bitcoin", "BTC", 1, 43.0)
    update = await until(comm, "update")
    assert update["data"][0]["price"] == 43.0 and update["seq"] == fresh["seq"] + 1
    await comm.disconnect()


async def test_one_ticker_serves_every_connections_periodic_checks(coins, settings):
    """Heartbeats, idle and slow-client checks run from one task per process, not a timer per
    connection (1,000 connections would be 4,000 task wake-ups a second)."""
    settings.STREAM_HEARTBEAT_SECONDS = 1
    comms = [(await connect())[0] for _ in range(3)]
    ticker = stream.get_hub().ticker
    assert len(ticker.members) == 3 and ticker.task is not None and not ticker.task.done()
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert "stream-watch" not in names and "stream-ticker" in names
    for comm in comms:
        assert (await until(comm, "heartbeat", timeout=3))["type"] == "heartbeat"
        await comm.disconnect()
    assert not ticker.members


async def test_deeply_nested_json_frame_is_a_bad_json_error_and_the_socket_stays_open(coins):
    """Issue 16: 4,000 brackets fit in a frame and were a RecursionError in the decoder."""
    comm, _ = await connect()
    await comm.send_to(text_data="[" * 4000 + "]" * 4000)
    err = await until(comm, "error")
    assert err["code"] == "bad_json" and "deeper" in err["message"]
    await comm.send_to(text_data=json.dumps({"action": "ping", "note": "a\x00b"}))
    assert (await until(comm, "error"))["code"] == "bad_json"
    await send(comm, action="ping")
    assert (await until(comm, "pong"))["type"] == "pong"
    await comm.disconnect()
