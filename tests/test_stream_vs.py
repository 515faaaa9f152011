"""Streams in another quote currency: ``?vs=`` on connect, ``"vs"`` on subscribe / resume.

Prices agree with REST's ``vs=`` (one conversion, ``markets.currency``), the log and seqs are
the same for every currency, and one connection's currency never leaks into another's frames
(updates are encoded once per message *and* currency). Quotes and the EUR rates are
hand-made (``markets.tests.data_helpers``; the rate a round 0.9 so the arithmetic shows).
"""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import ApplicationCommunicator, WebsocketCommunicator
from django.utils import timezone

from config.asgi import application
from fx.contracts import DailyRates
from fx.services import rates_store
from markets.tests.data_helpers import asset_data, quote, store
from streaming import services as stream
from tests.test_stream_ws import _fast_stream, connect, publish_price, send, until

_ = _fast_stream  # its autouse fixture: fast relay, fresh log, snapshots and rates

pytestmark = [pytest.mark.django_db(transaction=True)]

EUR = 0.9  # hand-made: EUR per USD today
EUR_BEFORE = 0.8  # hand-made: EUR per USD ten days ago (candles use their own day's rate)


@pytest.fixture
def coins(db):  # type: ignore[no-untyped-def]
    store(
        quote(asset_data("bitcoin", "BTC", 1), 100_000.0, source="replay"),
        quote(asset_data("ethereum", "ETH", 2), 3_000.0, source="replay"),
    )
    today = timezone.now().date()
    rates_store(
        days=[
            DailyRates(day=today - timedelta(days=10), rates=(("eur", EUR_BEFORE),), source="ecb"),
            DailyRates(day=today, rates=(("eur", EUR),), source="ecb"),
        ]
    )


async def test_connect_with_vs_converts_snapshots_and_updates_with_the_rates_provenance(coins):
    comm, welcome = await connect("/api/v1/stream/ws?vs=EUR")
    assert welcome["vs"] == "eur"
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    snap = await until(comm, "snapshot")
    assert snap["vs"] == "eur"
    btc = snap["data"][0]
    assert btc["price"] == pytest.approx(100_000.0 * EUR)
    assert (btc["vs"], btc["rate"], btc["rate_source"]) == ("eur", EUR, "ecb")
    assert btc["rate_as_of"].endswith("T00:00:00Z") and btc["source"] == "replay"
    await publish_price("bitcoin", "BTC", 1, 110_000.0)
    update = await until(comm, "update")
    assert update["vs"] == "eur" and "_ck" not in update  # the cache key is never sent
    assert update["data"][0]["price"] == pytest.approx(110_000.0 * EUR)
    assert update["seq"] == snap["seq"] + 1  # the same log and seqs as in USD
    await comm.disconnect()


async def test_stream_rest_and_the_coingecko_api_agree_in_eur_and_btc(coins):
    from rest_framework.test import APIClient

    def rest(vs: str) -> tuple[dict, float]:
        client = APIClient()
        ours = client.get(f"/api/v1/prices?ids=ethereum&vs={vs}").json()["data"]["ethereum"]
        cg = client.get(f"/coingecko/api/v3/simple/price?ids=ethereum&vs_currencies={vs}")
        return ours, cg.json()["ethereum"][vs]

    for vs in ("eur", "btc"):
        expected, coingecko = await sync_to_async(rest)(vs)
        comm, _ = await connect()
        await send(comm, action="subscribe", channels=["quotes:ethereum"], vs=vs)
        got = (await until(comm, "snapshot"))["data"][0]
        await comm.disconnect()
        for field in ("price", "market_cap", "volume_24h", "vs", "rate", "rate_source"):
            assert got[field] == pytest.approx(expected[field]), (vs, field)
        assert got["price"] == pytest.approx(coingecko), vs
    assert got["price"] == pytest.approx(3_000.0 / 100_000.0)


async def test_two_currencies_on_one_channel_never_share_a_frame(coins):
    usd, _ = await connect()
    eur, _ = await connect("/api/v1/stream/ws?vs=eur")
    for comm in (usd, eur):
        await send(comm, action="subscribe", channels=["quotes:*"])
        await until(comm, "subscribed")
    await publish_price("ethereum", "ETH", 2, 3_100.0)
    in_usd = await until(usd, "update")
    in_eur = await until(eur, "update")
    assert (in_usd["seq"], in_usd["from_seq"]) == (in_eur["seq"], in_eur["from_seq"])
    assert in_usd["data"][0]["price"] == 3_100.0 and "vs" not in in_usd
    assert "rate" not in in_usd["data"][0]  # USD frames are exactly as published
    assert in_eur["data"][0]["price"] == pytest.approx(3_100.0 * EUR)
    for comm in (usd, eur):
        await comm.disconnect()


async def test_subscribing_again_in_another_currency_switches_with_a_fresh_snapshot(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    assert (await until(comm, "snapshot"))["data"][0]["price"] == 100_000.0
    await send(comm, action="subscribe", channels=["quotes:bitcoin"], vs="eur")
    snap = await until(comm, "snapshot")
    assert snap["vs"] == "eur" and snap["data"][0]["price"] == pytest.approx(90_000.0)
    assert (await until(comm, "subscribed"))["channels"] == ["quotes:bitcoin"]
    await publish_price("bitcoin", "BTC", 1, 120_000.0)
    assert (await until(comm, "update"))["data"][0]["price"] == pytest.approx(108_000.0)
    await comm.disconnect()


async def test_an_unknown_currency_on_subscribe_is_an_error_frame_listing_the_supported(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin", "news"], vs="xyz")
    error = await until(comm, "error")
    assert error["code"] == "unknown_currency" and error["channel"] == "quotes:bitcoin"
    assert "eur" in error["message"] and "btc" in error["message"]
    # news has no amounts: it is subscribed whatever the currency, and sent as published
    assert (await until(comm, "subscribed"))["channels"] == ["news"]
    await send(comm, action="subscribe", channels=["quotes:bitcoin"], vs=["eur"])
    assert (await until(comm, "error"))["code"] == "bad_currency"
    await comm.disconnect()


async def test_an_unknown_currency_on_connect_says_so_and_closes_with_4400(coins):
    comm = WebsocketCommunicator(
        application, "/api/v1/stream/ws?vs=xyz", headers=[(b"origin", b"http://localhost:8000")]
    )
    connected, _ = await comm.connect(timeout=5)
    assert connected
    frame = await comm.receive_json_from(timeout=5)
    assert frame["type"] == "error" and frame["code"] == "unknown_currency"
    assert "eur" in frame["message"]
    closed = await comm.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4400, "reason": "unknown_currency"}


async def test_resume_in_another_currency_replays_converted(coins):
    comm, _ = await connect()
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    snap = await until(comm, "snapshot")
    await comm.disconnect()
    await publish_price("bitcoin", "BTC", 1, 101_000.0)
    comm, _ = await connect()
    await send(comm, action="resume", channel="quotes:bitcoin", after_seq=snap["seq"], vs="eur")
    update = await until(comm, "update")
    assert update["seq"] == snap["seq"] + 1 and update["vs"] == "eur"
    assert update["data"][0]["price"] == pytest.approx(101_000.0 * EUR)
    await comm.disconnect()


async def test_candles_convert_at_each_candles_own_days_rate(coins):
    from markets.models import Asset, Candle, Interval

    def candles() -> None:
        btc = Asset.objects.get(pk="bitcoin")
        today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        for days, close in ((10, 90_000.0), (0, 100_000.0)):
            Candle.objects.create(
                asset=btc,
                interval=Interval.D1,
                open_time=today - timedelta(days=days),
                open=close,
                high=close,
                low=close,
                close=close,
                volume=5.0,
                source="replay",
            )

    await sync_to_async(candles)()
    comm, _ = await connect("/api/v1/stream/ws?vs=eur")
    await send(comm, action="subscribe", channels=["candles:bitcoin:1d"])
    data = (await until(comm, "snapshot"))["data"]
    await comm.disconnect()
    old, new = sorted(data, key=lambda c: c["time"])
    assert old["close"] == pytest.approx(90_000.0 * EUR_BEFORE) and old["rate"] == EUR_BEFORE
    assert new["close"] == pytest.approx(100_000.0 * EUR) and new["rate"] == EUR
    assert old["volume"] == 5.0  # volume is in coins, not dollars


async def test_rates_are_refreshed_while_a_subscription_stays_open(coins, settings):
    settings.STREAM_RATE_REFRESH_SECONDS = 0.0
    comm, _ = await connect("/api/v1/stream/ws?vs=eur")
    await send(comm, action="subscribe", channels=["quotes:bitcoin"])
    await until(comm, "snapshot")
    await sync_to_async(rates_store)(
        days=[DailyRates(day=timezone.now().date(), rates=(("eur", 0.5),), source="ecb")]
    )
    from fx import selectors as fx_selectors

    await sync_to_async(fx_selectors.forget_cached)()
    await asyncio.sleep(1.1)  # the session looks at its rates once a second
    await publish_price("bitcoin", "BTC", 1, 100_000.0)
    update = await until(comm, "update")
    await publish_price("bitcoin", "BTC", 1, 100_000.0)
    later = await until(comm, "update")
    assert 0.5 in (update["data"][0]["rate"], later["data"][0]["rate"])
    await comm.disconnect()


async def _sse(path: str) -> tuple[dict, bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/stream/sse",
        "query_string": path.encode(),
        "headers": [(b"host", b"localhost")],
    }
    comm = ApplicationCommunicator(application, scope)
    await comm.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await comm.receive_output(timeout=5)
    body = b""
    while b"event: snapshot" not in body and start["status"] == 200:
        body += (await comm.receive_output(timeout=5)).get("body", b"")
    if start["status"] != 200:
        body = (await comm.receive_output(timeout=5))["body"]
    await comm.send_input({"type": "http.disconnect"})
    return start, body


async def test_sse_takes_vs_and_refuses_an_unknown_one_in_the_envelope(coins):
    start, body = await _sse("channels=quotes:bitcoin&vs=eur")
    assert start["status"] == 200
    data = next(line for line in body.decode().splitlines() if line.startswith("data: "))
    snap = json.loads(data[6:])
    assert snap["vs"] == "eur" and snap["data"][0]["price"] == pytest.approx(90_000.0)
    start, body = await _sse("channels=quotes:bitcoin&vs=xyz")
    assert start["status"] == 400
    (error,) = json.loads(body)["errors"]
    assert error["code"] == "unknown_currency" and error["attr"] == "vs"


def test_forecast_items_convert_point_bounds_and_last_close_at_todays_rate(coins):
    from forecasts.streams import forecasts_currency

    item = {
        "id": "bitcoin:auto:2026-01-01:1",
        "last_close": 100.0,
        "point": 110.0,
        "intervals": {"80": [90.0, 130.0], "95": [80.0, 140.0]},
        "skill": {"rel_mae": 0.98},
    }
    conv = stream.convert.conversion("forecasts", "eur")
    assert conv is not None and conv.vs == "eur"
    (out,) = conv.apply([item])
    assert (out["last_close"], out["point"]) == pytest.approx((90.0, 99.0))
    assert out["intervals"]["95"] == pytest.approx([72.0, 126.0])
    assert out["skill"] == {"rel_mae": 0.98} and out["rate_source"] == "ecb"
    assert item["point"] == 110.0  # the published item is never changed
    with pytest.raises(stream.ChannelError) as info:
        forecasts_currency("xyz")
    assert info.value.code == "unknown_currency"
