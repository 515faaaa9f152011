"""Each vendor client against the real recorded payloads in ../shared/data/api (respx)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
import time_machine

from core.http import ProviderError
from markets.clients import binance, coincap, coingecko, cryptocompare, replay
from markets.clients.known_assets import KNOWN_ASSETS
from markets.tests.provider_fixtures import BN, CAP, CC, CG, json_bytes

pytestmark = pytest.mark.usefixtures("fresh_providers")


@respx.mock
def test_coingecko_markets_parses_recorded_payload_with_provenance(api_payload):
    respx.get(f"{CG}/coins/markets").mock(
        return_value=httpx.Response(
            200, content=api_payload("coingecko/coins_markets_ids-bitcoin_usd.json")
        )
    )
    [q] = coingecko.coins_markets(ids=["bitcoin"])
    assert q.asset.slug == "bitcoin"
    assert q.asset.symbol == "BTC"
    assert q.asset.rank == 1
    assert q.asset.binance_symbol == "BTCUSDT"  # filled from the built-in mapping
    assert q.price == 49053
    assert q.market_cap == 917825524991
    assert q.volume_24h == 61679663434
    assert q.change_24h == pytest.approx(-4.37931)
    assert (q.high_24h, q.low_24h) == (51300, 48019)
    assert q.source == "coingecko"
    assert q.as_of == datetime(2021, 5, 15, 15, 59, 43, 867000, tzinfo=UTC)
    assert q.fallback_reason == ""
    request = respx.calls.last.request
    assert request.url.params["ids"] == "bitcoin"
    assert request.url.params["vs_currency"] == "usd"


@respx.mock
def test_coingecko_markets_reads_five_coin_listing(api_payload):
    respx.get(f"{CG}/coins/markets").mock(
        return_value=httpx.Response(
            200, content=api_payload("coingecko/coins_markets_usd_5coins_2023-01-02.json")
        )
    )
    quotes = coingecko.coins_markets(per_page=5)
    assert [q.asset.slug for q in quotes] == [
        "bitcoin",
        "ethereum",
        "tether",
        "usd-coin",
        "binancecoin",
    ]
    assert all(q.price > 0 for q in quotes)


@respx.mock
def test_coingecko_simple_price(api_payload):
    respx.get(f"{CG}/simple/price").mock(
        return_value=httpx.Response(
            200, content=api_payload("coingecko/simple_price_bitcoin_usd.json")
        )
    )
    assert coingecko.simple_price(ids=["bitcoin"]) == {"bitcoin": 49013}


@respx.mock
def test_coingecko_ohlc_converts_close_stamps_to_open_times(api_payload):
    raw = api_payload("coingecko/coins_bitcoin_ohlc_days7_usd.json")
    respx.get(f"{CG}/coins/bitcoin/ohlc").mock(return_value=httpx.Response(200, content=raw))
    candles = coingecko.ohlc(coin_id="bitcoin", days=7)
    rows = json.loads(raw)
    assert len(candles) == len(rows) == 42
    # The first row is stamped 2021-05-08 20:00 (its close): the 4-hour candle opened at 16:00.
    assert datetime.fromtimestamp(rows[0][0] / 1000, tz=UTC) == datetime(2021, 5, 8, 20, tzinfo=UTC)
    assert candles[0].open_time == datetime(2021, 5, 8, 16, tzinfo=UTC)
    assert (candles[0].open, candles[0].high, candles[0].low, candles[0].close) == tuple(
        rows[0][1:]
    )
    steps = {(b.open_time - a.open_time) for a, b in itertools.pairwise(candles)}
    assert steps == {timedelta(hours=4)}


@respx.mock
def test_coingecko_market_chart_points(api_payload):
    respx.get(f"{CG}/coins/bitcoin/market_chart").mock(
        return_value=httpx.Response(
            200, content=api_payload("coingecko/coins_bitcoin_market_chart_days30_usd.json")
        )
    )
    points = coingecko.market_chart(coin_id="bitcoin", days=30)
    assert len(points) == 722
    assert points[0].price > 0 and points[0].market_cap and points[0].volume
    assert points == sorted(points, key=lambda p: p.time)


@respx.mock
def test_coingecko_market_chart_range_sends_unix_bounds(api_payload):
    route = respx.get(f"{CG}/coins/bitcoin/market_chart/range").mock(
        return_value=httpx.Response(
            200, content=api_payload("coingecko/coins_bitcoin_market_chart_days90_daily_usd.json")
        )
    )
    start = datetime(2021, 2, 14, tzinfo=UTC)
    points = coingecko.market_chart_range(
        coin_id="bitcoin", start=start, end=start + timedelta(days=90)
    )
    assert len(points) > 80
    assert route.calls.last.request.url.params["from"] == str(int(start.timestamp()))


@respx.mock
def test_coingecko_trending_and_global(api_payload):
    respx.get(f"{CG}/search/trending").mock(
        return_value=httpx.Response(200, content=api_payload("coingecko/search_trending.json"))
    )
    respx.get(f"{CG}/global").mock(
        return_value=httpx.Response(200, content=api_payload("coingecko/global.json"))
    )
    coins = coingecko.trending()
    assert coins[0].asset.slug == "matic-network"
    assert coins[0].asset.symbol == "MATIC"
    assert [c.score for c in coins] == sorted(c.score for c in coins)
    g = coingecko.global_data()
    assert g.total_market_cap_usd == pytest.approx(2142953338976.9612)
    assert 30 < g.dominance["btc"] < 60
    assert g.active_cryptocurrencies == 7362
    assert g.source == "coingecko"


@respx.mock
def test_binance_klines_parse_and_drop_the_still_open_candle(api_payload):
    raw = api_payload("binance/klines_ADAUSDT_1m_limit500_2024-11-16.json")
    rows = json.loads(raw)
    respx.get(f"{BN}/api/v3/klines").mock(return_value=httpx.Response(200, content=raw))
    # Recorded at 17:26 UTC while the last minute was still open.
    last_close = datetime.fromtimestamp(rows[-1][6] / 1000, tz=UTC)
    with time_machine.travel(last_close - timedelta(seconds=20), tick=False):
        candles = binance.klines(symbol="ADAUSDT", interval="1m", limit=500)
    assert len(rows) == 500
    assert len(candles) == 499
    first = candles[0]
    assert first.open_time == datetime.fromtimestamp(rows[0][0] / 1000, tz=UTC)
    assert (first.open, first.high, first.low, first.close, first.volume) == (
        0.7227,
        0.7256,
        0.7227,
        0.7244,
        574761.5,
    )
    assert first.source == "binance"


@respx.mock
def test_binance_klines_range_pages_through_deep_history(api_payload):
    rows = json.loads(api_payload("binance/klines_BTCUSDT_3d_2017-08-17_to_2024-01-04.json"))
    assert len(rows) == 778

    def page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startTime"])
        limit = int(request.url.params["limit"])
        chunk = [r for r in rows if r[0] >= start][:limit]
        return httpx.Response(200, content=json_bytes(chunk))

    route = respx.get(f"{BN}/api/v3/klines").mock(side_effect=page)
    start = datetime(2017, 8, 17, tzinfo=UTC)
    end = datetime(2024, 1, 5, tzinfo=UTC)
    with time_machine.travel(datetime(2024, 1, 5, 21, tzinfo=UTC), tick=False):
        candles = binance.klines_range(
            symbol="BTCUSDT", interval="3d", start=start, end=end, page_limit=300
        )
    assert route.call_count == 3  # 300 + 300 + 178
    # The last recorded candle (opened 2024-01-04) was still open: dropped.
    assert len(candles) == 777
    times = [c.open_time for c in candles]
    assert times == sorted(set(times))
    assert candles[0].open == 4261.48


@respx.mock
def test_binance_ticker_maps_pairs_to_assets(api_payload):
    respx.get(f"{BN}/api/v3/ticker/24hr").mock(
        return_value=httpx.Response(
            200, content=api_payload("binance/ticker_24hr_all_symbols_2024-01-05.json")
        )
    )
    assets = [KNOWN_ASSETS["bitcoin"], KNOWN_ASSETS["ethereum"]]
    quotes = {q.asset.slug: q for q in binance.ticker_24hr(assets=assets)}
    assert set(quotes) == {"bitcoin", "ethereum"}
    btc = quotes["bitcoin"]
    assert 40_000 < btc.price < 50_000
    assert btc.market_cap is None
    assert btc.source == "binance"
    assert btc.as_of.year == 2024
    params = respx.calls.last.request.url.params
    assert json.loads(params["symbols"]) == ["BTCUSDT", "ETHUSDT"]


def test_coincap_without_key_is_skipped_without_a_request():
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(f"{CAP}/assets")
        with pytest.raises(ProviderError) as info:
            coincap.assets(limit=5)
    assert info.value.reason == coincap.NO_KEY_REASON
    assert info.value.counts is False
    assert route.call_count == 0


@respx.mock
def test_coincap_v3_with_key_sends_bearer_and_parses(settings):
    settings.COINCAP_API_KEY = "k-123"
    from core.http import reset_providers

    reset_providers()
    body = {
        "timestamp": 1704489129412,
        "data": [
            {
                "id": "bitcoin",
                "rank": "1",
                "symbol": "BTC",
                "name": "Bitcoin",
                "priceUsd": "44150.12",
                "marketCapUsd": "865000000000.5",
                "volumeUsd24Hr": "21000000000.1",
                "changePercent24Hr": "-1.25",
            }
        ],
    }
    route = respx.get(f"{CAP}/assets").mock(
        return_value=httpx.Response(200, content=json_bytes(body))
    )
    [q] = coincap.assets(assets=[KNOWN_ASSETS["bitcoin"]])
    assert q.price == pytest.approx(44150.12)
    assert q.asset.slug == "bitcoin"
    assert q.change_24h == pytest.approx(-1.25)
    assert route.calls.last.request.headers["Authorization"] == "Bearer k-123"


@respx.mock
def test_cryptocompare_histoday_recorded_v1_payload(api_payload):
    respx.get(f"{CC}/data/v2/histoday").mock(
        return_value=httpx.Response(
            200,
            content=api_payload("cryptocompare/histoday_BTC_USD_limit2000_toTs-2020-10-24.json"),
        )
    )
    candles = cryptocompare.histoday(fsym="BTC", limit=2000)
    assert len(candles) == 2001
    assert candles[0].open_time == datetime(2015, 5, 4, tzinfo=UTC)
    assert (candles[0].open, candles[0].close, candles[0].volume) == (240.34, 239.01, 24777.49)
    assert candles[-1].open_time == datetime(2020, 10, 24, tzinfo=UTC)


@respx.mock
def test_cryptocompare_error_body_with_200_is_a_provider_failure():
    respx.get(f"{CC}/data/v2/histohour").mock(
        return_value=httpx.Response(
            200, content=json_bytes({"Response": "Error", "Message": "fsym is a required param."})
        )
    )
    with pytest.raises(ProviderError) as info:
        cryptocompare.histohour(fsym="BTC")
    assert info.value.reason.startswith("invalid payload")
    assert info.value.counts is True


@respx.mock
def test_cryptocompare_rate_limit_message_reads_as_429():
    respx.get(f"{CC}/data/pricemultifull").mock(
        return_value=httpx.Response(
            200,
            content=json_bytes(
                {"Response": "Error", "Message": "You are over your rate limit please upgrade"}
            ),
        )
    )
    with pytest.raises(ProviderError) as info:
        cryptocompare.price_multi_full(assets=[KNOWN_ASSETS["bitcoin"]])
    assert info.value.reason == "429 rate limited"


def test_replay_is_deterministic_given_a_clock(sample_data, settings):
    settings.MARKET_REPLAY_START = "2024-07-01T00:00:00Z"
    settings.MARKET_REPLAY_ANCHOR = "2026-01-01T00:00:00Z"
    settings.MARKET_REPLAY_SPEED = 60.0
    now = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)  # one real hour = 60 recorded hours
    a = replay.quotes(top=3, now=now)
    b = replay.quotes(top=3, now=now)
    assert a == b
    assert [q.asset.slug for q in a][:2] == ["bitcoin", "ethereum"]
    btc = a[0]
    assert btc.source == "replay"
    assert btc.as_of == now
    s = replay.series("BTC")
    assert s is not None and s.step == 3600  # hourly file preferred
    t = replay.replay_time(s, now)
    assert datetime.fromtimestamp(t, tz=UTC) == datetime(2024, 7, 3, 12, tzinfo=UTC)
    later = replay.quotes(top=1, now=now + timedelta(seconds=30))[0]
    assert later.price != btc.price  # time-warped: 30 real seconds = 30 recorded minutes


def test_replay_continues_from_the_last_real_price(sample_data):
    """The replayed market starts exactly at the anchor and moves by the recorded returns."""
    anchor = replay.Anchor(time=datetime(2025, 7, 6, tzinfo=UTC), price=108_198.12)
    btc = KNOWN_ASSETS["bitcoin"]
    at_anchor = replay.quote(btc, now=anchor.time, anchor=anchor)
    assert at_anchor.price == pytest.approx(108_198.12, rel=1e-9)
    # the same recorded returns from a different level: prices scale, moves are the same
    now = datetime(2026, 12, 2, 6, tzinfo=UTC)
    doubled = replay.Anchor(time=anchor.time, price=2 * anchor.price)
    p1 = replay.quote(btc, now=now, anchor=anchor).price
    p2 = replay.quote(btc, now=now, anchor=doubled).price
    assert p2 == pytest.approx(2 * p1, rel=1e-9)


def test_replayed_prices_are_continuous_and_stay_plausible_for_years(sample_data):
    """No jump between ticks (not even where the recording wraps) and no runaway drift."""
    import numpy as np

    s = replay.series("BTC")
    anchor = replay.Anchor(time=datetime(2025, 7, 6, tzinfo=UTC), price=100_000.0)
    t0 = anchor.time.timestamp()
    every_5s = t0 + np.arange(0, 3 * 86_400, 5.0)
    ticks = replay.prices(s, every_5s, anchor)
    assert np.max(np.abs(np.diff(np.log(ticks)))) < 0.01  # < 1% per 5 s
    assert np.mean(np.diff(ticks) != 0) > 0.95  # it moves every tick
    years = t0 + np.arange(0, 3 * 365 * 86_400, 3600.0)
    path = replay.prices(s, years, anchor)
    assert 0.3 * anchor.price < path.min() and path.max() < 3 * anchor.price
    assert np.max(np.abs(np.diff(np.log(path)))) < 0.1  # < 10% per hour, wraps included


def test_replay_candles_are_valid_and_cut_from_the_same_path_as_quotes(sample_data):
    anchor = replay.Anchor(time=datetime(2025, 7, 6, tzinfo=UTC), price=108_198.12)
    start = datetime(2025, 7, 6, tzinfo=UTC)
    candles = replay.candles(
        symbol="BTC", step=86_400, start=start, end=start + timedelta(days=30), anchor=anchor
    )
    assert len(candles) == 31 and all(c.source == "replay" for c in candles)
    assert candles[0].open == pytest.approx(anchor.price, rel=1e-6)  # continues the chart
    for c in candles:
        assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
    for a, b in itertools.pairwise(candles):
        assert b.open == pytest.approx(a.close, rel=2e-3)  # one continuous path
    q = replay.quote(KNOWN_ASSETS["bitcoin"], now=start + timedelta(days=31), anchor=anchor)
    assert q.price == pytest.approx(candles[-1].close, rel=2e-3)


def test_replay_without_sample_data_fails_cleanly(settings, tmp_path):
    settings.CRYPTOCAST_SAMPLE_DATA = str(tmp_path)
    with pytest.raises(ProviderError) as info:
        replay.quotes(top=5)
    assert "no sample data" in info.value.reason
