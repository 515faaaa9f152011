"""The listing: filters, ordering, bounds, 400s naming the parameter, provenance, query counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from markets.tests.data_helpers import asset_data, make_asset, make_candles, quote, store

pytestmark = pytest.mark.django_db
URL = "/api/v1/cryptocurrencies/"


@pytest.fixture
def market(db):  # type: ignore[no-untyped-def]
    btc = asset_data("bitcoin", "BTC", 1, categories=("layer-1", "pow"), binance_symbol="BTCUSDT")
    eth = asset_data("ethereum", "ETH", 2, categories=("layer-1",))
    doge = asset_data("dogecoin", "DOGE", 8, categories=("meme", "pow"))
    ada = asset_data("cardano", "ADA", 9, categories=("layer-1",))
    store(
        quote(
            btc,
            60000.0,
            market_cap=1.2e12,
            volume_24h=3e10,
            change_1h=0.1,
            change_24h=2.5,
            change_7d=5.0,
        ),
        quote(
            eth,
            3000.0,
            market_cap=3.6e11,
            volume_24h=1.5e10,
            change_1h=-0.2,
            change_24h=-1.0,
            change_7d=8.0,
        ),
        quote(
            doge,
            0.1,
            market_cap=1.4e10,
            volume_24h=1e9,
            change_1h=1.0,
            change_24h=12.0,
            change_7d=-3.0,
        ),
        fallback_reason="",
    )
    make_asset("nocoin", "NOC", None)  # registered, never quoted
    return {"btc": btc, "eth": eth, "doge": doge, "ada": ada}


def ids(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.content
    return [r["id"] for r in response.json()["results"]]


def test_listing_orders_by_rank_and_carries_provenance(api_client, market):  # type: ignore[no-untyped-def]
    body = api_client.get(URL).json()
    assert [r["id"] for r in body["results"]] == ["bitcoin", "ethereum", "dogecoin", "nocoin"]
    btc = body["results"][0]
    assert btc["price"] == 60000.0 and btc["source"] == "coingecko"
    for key in ("source", "as_of", "fetched_at", "stale", "fallback_reason"):
        assert key in btc
    assert btc["stale"] is False
    unquoted = body["results"][-1]
    assert unquoted["price"] is None and unquoted["stale"] is True


def test_old_quotes_are_marked_stale(api_client, settings):  # type: ignore[no-untyped-def]
    settings.MARKETS_QUOTE_STALE_SECONDS = 60
    old = datetime.now(UTC) - timedelta(minutes=5)
    store(quote(asset_data("bitcoin", "BTC", 1), 1.0, as_of=old))
    assert api_client.get(URL).json()["results"][0]["stale"] is True


def test_failover_reason_is_served(api_client):  # type: ignore[no-untyped-def]
    store(
        quote(asset_data("bitcoin", "BTC", 1), 1.0, source="binance"),
        fallback_reason="coingecko: 429 rate limited",
    )
    row = api_client.get(URL).json()["results"][0]
    assert row["source"] == "binance" and row["fallback_reason"] == "coingecko: 429 rate limited"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"symbol": "btc,DOGE"}, ["bitcoin", "dogecoin"]),
        ({"ids": "ethereum,nocoin"}, ["ethereum", "nocoin"]),
        ({"category": "pow"}, ["bitcoin", "dogecoin"]),
        ({"category": "layer-1"}, ["bitcoin", "ethereum"]),
        ({"category": "layer"}, []),  # whole categories only, never a substring
        ({"price_min": "1000"}, ["bitcoin", "ethereum"]),
        ({"price_max": "3000"}, ["ethereum", "dogecoin"]),
        ({"market_cap_min": "1e11", "market_cap_max": "1e12"}, ["ethereum"]),
        ({"volume_min": "1e10"}, ["bitcoin", "ethereum"]),
        ({"change_24h_min": "0"}, ["bitcoin", "dogecoin"]),
        ({"change_24h_max": "0"}, ["ethereum"]),
    ],
)
def test_filters(api_client, market, params, expected):  # type: ignore[no-untyped-def]
    assert ids(api_client.get(URL, params)) == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("-market_cap", ["bitcoin", "ethereum", "dogecoin", "nocoin"]),
        ("market_cap", ["dogecoin", "ethereum", "bitcoin", "nocoin"]),  # missing values last
        ("-change_24h", ["dogecoin", "bitcoin", "ethereum", "nocoin"]),
        ("change_1h", ["ethereum", "bitcoin", "dogecoin", "nocoin"]),
        ("-change_7d", ["ethereum", "bitcoin", "dogecoin", "nocoin"]),
        ("price", ["dogecoin", "ethereum", "bitcoin", "nocoin"]),
        ("-volume_24h", ["bitcoin", "ethereum", "dogecoin", "nocoin"]),
        ("symbol", ["bitcoin", "dogecoin", "ethereum", "nocoin"]),
        ("name", ["bitcoin", "dogecoin", "ethereum", "nocoin"]),
        ("-rank", ["dogecoin", "ethereum", "bitcoin", "nocoin"]),
    ],
)
def test_ordering(api_client, market, ordering, expected):  # type: ignore[no-untyped-def]
    assert ids(api_client.get(URL, {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"price_min": "cheap"}, "price_min"),
        ({"price_min": "-5"}, "price_min"),
        ({"market_cap_max": "1e30"}, "market_cap_max"),
        ({"change_24h_min": "-150"}, "change_24h_min"),
        ({"volume_max": "x"}, "volume_max"),
        ({"ordering": "password"}, "ordering"),
        ({"symbol": "BTC,<script>"}, "symbol"),
        ({"symbol": ",".join(f"S{i}" for i in range(101))}, "symbol"),
        ({"ids": "Bitcoin!"}, "ids"),
        ({"category": "a b"}, "category"),
        ({"sparkline": "30d"}, "sparkline"),
    ],
)
def test_invalid_values_are_400_naming_the_parameter(api_client, market, params, attr):  # type: ignore[no-untyped-def]
    response = api_client.get(URL, params)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert attr in [e["attr"] for e in body["errors"]]


def test_page_size_is_bounded(api_client, market):  # type: ignore[no-untyped-def]
    for i in range(5):
        make_asset(f"coin-{i}", f"C{i}", 100 + i)
    body = api_client.get(URL, {"page_size": 2}).json()
    assert len(body["results"]) == 2 and body["count"] == 9 and body["next"]
    body = api_client.get(URL, {"page_size": 100000}).json()
    assert len(body["results"]) == 9  # clamped to max_page_size (200), not unbounded


def test_sparkline_7d_lists_recent_daily_closes(api_client, market):  # type: ignore[no-untyped-def]
    from markets.models import Asset
    from markets.services import candles_upsert
    from markets.tests.data_helpers import candle

    btc = Asset.objects.get(pk="bitcoin")
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [today - timedelta(days=d) for d in (10, 3, 2, 1)]
    candles = [candle(0, price=100 + i) for i in range(4)]
    from dataclasses import replace

    candles_upsert(
        asset=btc,
        interval="1d",
        candles=[replace(c, open_time=t) for c, t in zip(candles, days, strict=True)],
    )
    rows = api_client.get(URL, {"sparkline": "7d"}).json()["results"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["bitcoin"]["sparkline_7d"] == [102.0, 103.0, 104.0]  # closes, 10-day-old excluded
    assert by_id["ethereum"]["sparkline_7d"] == []
    assert api_client.get(URL).json()["results"][0]["sparkline_7d"] is None


def test_listing_query_count_does_not_grow_with_assets(
    api_client, market, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    with django_assert_num_queries(2):  # COUNT + one page with its latest quotes joined
        api_client.get(URL)
    for i in range(20):
        store(quote(asset_data(f"coin-{i}", f"C{i}", 100 + i), 1.0 + i))
    with django_assert_num_queries(2):
        api_client.get(URL, {"ordering": "-change_24h", "category": "pow"})
    with django_assert_num_queries(3):  # + one query for every sparkline of the page
        api_client.get(URL, {"sparkline": "7d"})


def test_repeat_listing_queries_are_answered_from_the_cache_without_queries(
    api_client, market, settings, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    settings.MARKETS_LISTING_CACHE_SECONDS = 2
    with django_assert_num_queries(2):
        first = api_client.get(URL, {"ordering": "rank"})
    with django_assert_num_queries(0):
        again = api_client.get(URL, {"ordering": "rank"})
    assert first["X-Cache"] == "miss" and again["X-Cache"] == "l1"
    assert again.content == first.content
    with django_assert_num_queries(2):  # another query string is another entry
        other = api_client.get(URL, {"ordering": "-rank"})
    assert other.json()["results"][0]["id"] != first.json()["results"][0]["id"]


def test_listing_cache_expires_and_never_caches_errors(api_client, market, settings, monkeypatch):  # type: ignore[no-untyped-def]
    import core.cache

    settings.MARKETS_LISTING_CACHE_SECONDS = 2
    now = [1000.0]  # L1 clock (monotonic); time-machine moves the L2 (locmem) clock
    monkeypatch.setattr(core.cache.time, "monotonic", lambda: now[0])
    with time_machine.travel("2026-01-01T00:00:00Z", tick=False) as clock:
        api_client.get(URL)
        store(quote(asset_data("newcoin", "NEW", 1), 5.0))
        assert "newcoin" not in {r["id"] for r in api_client.get(URL).json()["results"]}
        now[0] += 3
        clock.shift(3)
        if settings.REDIS_URL:  # Redis expires L2 on its own (real) clock: emulate that
            from django.core.cache import cache

            cache.clear()
        assert "newcoin" in {r["id"] for r in api_client.get(URL).json()["results"]}
    for _ in range(2):  # a 400 is computed every time, never served from the cache
        bad = api_client.get(URL, {"price_min": "cheap"})
        assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "price_min"


def test_detail_by_id_or_symbol(api_client, market):  # type: ignore[no-untyped-def]
    for key in ("bitcoin", "BTC", "btc", "BTCUSDT"):
        body = api_client.get(f"/api/v1/cryptocurrencies/{key}").json()
        assert body["id"] == "bitcoin", key
    assert body["provider_ids"]["binance"] == "BTCUSDT"
    response = api_client.get("/api/v1/cryptocurrencies/unknowncoin")
    assert response.status_code == 404 and response.json()["type"] == "client_error"


def test_symbol_collision_resolves_to_best_rank_never_silently_to_another(api_client, db):  # type: ignore[no-untyped-def]
    make_asset("uniswap", "UNI", 20)
    make_asset("unicorn-token", "UNI", 900)
    assert api_client.get("/api/v1/cryptocurrencies/UNI").json()["id"] == "uniswap"
    make_asset("foo-a", "FOO", None)
    make_asset("foo-b", "FOO", None)
    response = api_client.get("/api/v1/cryptocurrencies/FOO")
    assert response.status_code == 404
    assert "ambiguous" in response.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("category", "window", "expected"),
    [
        ("gainers", "24h", ["dogecoin", "bitcoin", "ethereum"]),
        ("losers", "24h", ["ethereum", "bitcoin", "dogecoin"]),
        ("gainers", "7d", ["ethereum", "bitcoin", "dogecoin"]),
        ("losers", "1h", ["ethereum", "bitcoin", "dogecoin"]),
        ("volume", "24h", ["bitcoin", "ethereum", "dogecoin"]),
        ("market-cap", "24h", ["bitcoin", "ethereum", "dogecoin"]),
    ],
)
def test_top_categories(api_client, market, category, window, expected):  # type: ignore[no-untyped-def]
    response = api_client.get(f"/api/v1/cryptocurrencies/top/{category}", {"window": window})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == expected


def test_top_rejects_unknown_category_and_window(api_client, market):  # type: ignore[no-untyped-def]
    response = api_client.get("/api/v1/cryptocurrencies/top/hot")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "category"
    response = api_client.get("/api/v1/cryptocurrencies/top/gainers", {"window": "2y"})
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "window"
    response = api_client.get("/api/v1/cryptocurrencies/top/gainers", {"limit": "1000"})
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "limit"


def test_history_validates_its_parameters(api_client, market):  # type: ignore[no-untyped-def]
    from markets.models import Asset

    make_candles(Asset.objects.get(pk="bitcoin"), range(3))
    url = "/api/v1/cryptocurrencies/bitcoin/history"
    assert api_client.get(url, {"interval": "2d"}).json()["errors"][0]["attr"] == "interval"
    assert api_client.get(url, {"start": "yesterday"}).json()["errors"][0]["attr"] == "start"
    bad = api_client.get(url, {"start": "2024-02-01", "end": "2024-01-01"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "end"
    assert len(api_client.get(url).json()["results"]) == 3
    assert api_client.get("/api/v1/cryptocurrencies/nope/history").status_code == 404


def test_a_bad_list_filter_value_has_a_machine_readable_code(api_client, market):  # type: ignore[no-untyped-def]
    # found by the fuzzer: django-filter's errors carried "code": null
    response = api_client.get("/api/v1/cryptocurrencies/", {"ids": "U\u00e2d", "symbol": ","})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors and all(isinstance(e["code"], str) and e["code"] for e in errors), errors


def test_history_pages_are_served_from_cache_until_a_candle_is_written(  # type: ignore[no-untyped-def]
    api_client, market, django_assert_num_queries, django_capture_on_commit_callbacks
):
    from markets.history_cache import HISTORY
    from markets.models import Asset

    btc = Asset.objects.get(pk="bitcoin")
    with django_capture_on_commit_callbacks(execute=True):
        make_candles(btc, range(3))
    url = "/api/v1/cryptocurrencies/bitcoin/history"
    first = api_client.get(url)
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        again = api_client.get(url)
    assert again["X-Cache"] == "l1" and again.content == first.content
    HISTORY.clear_l1()  # another process: the shared tier answers
    assert api_client.get(url)["X-Cache"] == "l2"

    # a candle written through the service bumps the generation on commit: served at once
    with django_capture_on_commit_callbacks(execute=True):
        make_candles(btc, range(3, 5))
    fresh = api_client.get(url)
    assert fresh["X-Cache"] == "miss" and len(fresh.json()["results"]) == 5

    # another symbol spelling is its own page; errors, other currencies and spreadsheets are
    # never cached
    assert api_client.get("/api/v1/cryptocurrencies/nope/history").status_code == 404
    assert api_client.get("/api/v1/cryptocurrencies/nope/history").status_code == 404
    assert "X-Cache" not in api_client.get(url, {"vs": "eur"})
    assert "X-Cache" not in api_client.get(url, {"format": "csv"})


@pytest.mark.parametrize(
    "url", ["/api/v1/cryptocurrencies/", "/api/v1/cryptocurrencies/bitcoin/history"]
)
def test_a_cached_public_page_is_answered_from_memory_only_when_drf_would_send_it(  # type: ignore[no-untyped-def]
    client, market, url, django_assert_num_queries, settings
):
    from markets.models import Asset

    settings.MARKETS_LISTING_CACHE_SECONDS = 2  # the markets tests turn it off
    make_candles(Asset.objects.get(pk="bitcoin"), range(3))
    assert client.get(url)["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        hit = client.get(url, HTTP_ACCEPT="application/json")
    assert hit.status_code == 200 and hit["X-Cache"] == "l1"
    # credentials are still checked: a bad token is a 401, not the cached page
    bad = client.get(url, HTTP_AUTHORIZATION="Bearer not-a-token")
    assert bad.status_code == 401
    # a spreadsheet asked for by Accept or ?format= is never the cached JSON
    csv = client.get(url, HTTP_ACCEPT="text/csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    assert client.get(url, {"format": "csv"})["Content-Type"].startswith("text/csv")


def test_history_cache_off_builds_every_page(api_client, market, settings):  # type: ignore[no-untyped-def]
    from markets.models import Asset

    settings.MARKETS_HISTORY_CACHE_SECONDS = 0
    make_candles(Asset.objects.get(pk="bitcoin"), range(2))
    response = api_client.get("/api/v1/cryptocurrencies/bitcoin/history")
    assert response.status_code == 200 and "X-Cache" not in response
