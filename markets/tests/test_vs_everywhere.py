"""``vs=`` on the quick reads, the listing and detail, both history endpoints: one conversion
(``markets.currency``) with the rate's provenance, an unknown currency a 400 naming ``vs``,
caches keyed by currency. Rates and prices are hand-made (``cg_fixtures``; one extra EUR rate
on one day below, also hand-made)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from fx.contracts import DailyRates
from fx.services import rates_store
from markets import live
from markets.tests.cg_fixtures import BTC_USD, ETH_USD, EUR_PER_USD, NOW, build_store

pytestmark = pytest.mark.django_db
OTHER_DAY = NOW.date() - timedelta(days=3)
OTHER_EUR = 0.5  # hand-made: a distinct rate on one day, so per-day conversion shows


@pytest.fixture
def priced():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        assets = build_store()
        rates_store(days=[DailyRates(day=OTHER_DAY, rates=(("eur", OTHER_EUR),), source="x")])
        # the following day is back to the usual rate (rates_store keeps one row per day)
        yield assets


def _bad_vs(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["attr"] == "vs"
    assert "eur" in error["detail"] and "btc" in error["detail"]  # lists the supported
    return str(error["detail"])


# --- /quick/* ------------------------------------------------------------------------------
def test_quick_prices_convert_the_cached_board_with_provenance(client, priced):  # type: ignore[no-untyped-def]
    live.board_refresh()
    body = client.get("/api/v1/quick/prices", {"ids": "ethereum,bitcoin", "vs": "eur"}).json()
    assert body["vs"] == "eur"
    eth = body["data"]["ethereum"]
    assert eth["price"] == pytest.approx(ETH_USD * EUR_PER_USD)
    assert eth["market_cap"] == pytest.approx(3.0e11 * EUR_PER_USD)
    assert (eth["vs"], eth["rate"], eth["rate_source"]) == ("eur", EUR_PER_USD, "frankfurter")
    assert eth["rate_as_of"] == "2024-03-01T00:00:00Z" and eth["source"] == "coingecko"
    usd = client.get("/api/v1/quick/prices", {"ids": "ethereum"}).json()
    assert usd["vs"] == "usd" and usd["data"]["ethereum"]["price"] == ETH_USD
    assert "rate" not in usd["data"]["ethereum"]  # USD bodies unchanged


def test_quick_market_in_btc(client, priced):  # type: ignore[no-untyped-def]
    live.board_refresh()
    body = client.get("/api/v1/quick/market", {"vs": "btc", "limit": 2}).json()
    assert body["vs"] == "btc"
    assert [d["price"] for d in body["data"]] == pytest.approx([1.0, ETH_USD / BTC_USD])
    assert body["data"][1]["rate_source"] == "coingecko"


@pytest.mark.parametrize("url", ["/api/v1/quick/prices", "/api/v1/quick/market"])
def test_quick_reads_reject_an_unknown_currency(client, priced, url):  # type: ignore[no-untyped-def]
    live.board_refresh()
    _bad_vs(client.get(url, {"vs": "xyz"}))


# --- /cryptocurrencies/ and /cryptocurrencies/{id} ------------------------------------------
def test_listing_in_eur_converts_every_row_with_provenance(client, priced):  # type: ignore[no-untyped-def]
    rows = client.get("/api/v1/cryptocurrencies/", {"vs": "EUR"}).json()["results"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["ethereum"]["price"] == pytest.approx(ETH_USD * EUR_PER_USD)
    assert by_id["bitcoin"]["high_24h"] == pytest.approx(52000.0 * EUR_PER_USD)
    assert by_id["bitcoin"]["change_24h"] == pytest.approx(-4.0)  # fiat: not re-based
    assert all(r["vs"] == "eur" and r["rate_source"] == "frankfurter" for r in rows)
    plain = client.get("/api/v1/cryptocurrencies/").json()["results"]
    assert {r["id"]: r["price"] for r in plain}["ethereum"] == ETH_USD and "vs" not in plain[0]


def test_listing_sparkline_is_converted_too(client, priced):  # type: ignore[no-untyped-def]
    usd = client.get("/api/v1/cryptocurrencies/", {"sparkline": "7d"}).json()["results"][0]
    eur = client.get("/api/v1/cryptocurrencies/", {"sparkline": "7d", "vs": "eur"}).json()
    assert eur["results"][0]["sparkline_7d"] == pytest.approx(
        [v * EUR_PER_USD for v in usd["sparkline_7d"]]
    )


def test_listing_makes_one_rate_lookup_per_request_not_per_row(
    client, priced, django_assert_num_queries
):  # type: ignore[no-untyped-def]
    client.get("/api/v1/cryptocurrencies/", {"vs": "eur"})  # warms the cached fiat table
    with django_assert_num_queries(2):  # COUNT + page, as in USD: the fiat rate is cached
        client.get("/api/v1/cryptocurrencies/", {"vs": "eur", "ordering": "-rank"})
    with django_assert_num_queries(3):  # + ONE read of the priced coins for a crypto rate
        client.get("/api/v1/cryptocurrencies/", {"vs": "btc"})


def test_listing_cache_is_keyed_by_currency(client, priced, settings):  # type: ignore[no-untyped-def]
    settings.MARKETS_LISTING_CACHE_SECONDS = 30
    from markets.apis.assets import reset_listing_cache

    reset_listing_cache()
    usd = client.get("/api/v1/cryptocurrencies/")
    eur = client.get("/api/v1/cryptocurrencies/", {"vs": "eur"})
    assert (usd["X-Cache"], eur["X-Cache"]) == ("miss", "miss")
    assert eur.json()["results"][0]["price"] != usd.json()["results"][0]["price"]
    again = client.get("/api/v1/cryptocurrencies/", {"vs": "eur"})
    assert again["X-Cache"] == "l1" and again.content == eur.content
    _bad_vs(client.get("/api/v1/cryptocurrencies/", {"vs": "xyz"}))  # never cached


def test_listing_and_detail_reject_an_unknown_currency(client, priced):  # type: ignore[no-untyped-def]
    _bad_vs(client.get("/api/v1/cryptocurrencies/", {"vs": "xyz"}))
    _bad_vs(client.get("/api/v1/cryptocurrencies/bitcoin", {"vs": "xyz"}))


def test_detail_in_eth(client, priced):  # type: ignore[no-untyped-def]
    body = client.get("/api/v1/cryptocurrencies/bitcoin", {"vs": "eth"}).json()
    assert body["price"] == pytest.approx(BTC_USD / ETH_USD)
    assert (body["vs"], body["rate"]) == ("eth", pytest.approx(1 / ETH_USD))
    assert body["change_24h"] == pytest.approx((0.96 / 1.02 - 1) * 100)  # re-based
    assert body["provider_ids"]["binance"] == "BTCUSDT"
    assert client.get("/api/v1/cryptocurrencies/nope", {"vs": "eth"}).status_code == 404


# --- history: per point at that day's rate ------------------------------------------------
def test_cryptocurrency_history_converts_each_candle_at_its_days_rate(client, priced):  # type: ignore[no-untyped-def]
    params = {"interval": "1d", "start": str(OTHER_DAY - timedelta(days=1)), "end": "2024-03-01"}
    usd = client.get("/api/v1/cryptocurrencies/bitcoin/history", params).json()["results"]
    eur = client.get("/api/v1/cryptocurrencies/bitcoin/history", {**params, "vs": "eur"})
    rows = eur.json()["results"]
    assert len(rows) == len(usd) >= 4
    for u, e in zip(usd, rows, strict=True):
        expected = OTHER_EUR if u["open_time"].startswith(str(OTHER_DAY)) else EUR_PER_USD
        assert e["close"] == pytest.approx(u["close"] * expected)
        assert e["open"] == pytest.approx(u["open"] * expected)
        assert e["volume"] == u["volume"]  # in coins, not converted
        assert (e["vs"], e["rate"]) == ("eur", expected)
        assert e["rate_as_of"][:10] == u["open_time"][:10]  # a rate is published every day
    _bad_vs(client.get("/api/v1/cryptocurrencies/bitcoin/history", {**params, "vs": "xyz"}))


def test_price_history_converts_per_point_and_says_which_rate_days(client, priced):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        usd = client.get("/api/v1/prices/history/bitcoin", {"days": 5}).json()
        eur = client.get("/api/v1/prices/history/bitcoin", {"days": 5, "vs": "eur"}).json()
        bad = client.get("/api/v1/prices/history/bitcoin", {"days": 5, "vs": "xyz"})
    assert "vs" not in usd
    assert eur["vs"] == "eur" and eur["rate_source"] == "frankfurter,x"
    assert eur["rate_days"]["first"] <= f"{OTHER_DAY}T00:00:00Z" <= eur["rate_days"]["last"]
    assert eur["source"] == usd["source"] and eur["as_of"] == usd["as_of"]
    for u, e in zip(usd["data"], eur["data"], strict=True):
        expected = OTHER_EUR if u["time"].startswith(str(OTHER_DAY)) else EUR_PER_USD
        assert e["close"] == pytest.approx(u["close"] * expected)
        assert e["rate"] == expected
    assert any(p["rate"] == OTHER_EUR for p in eur["data"])
    _bad_vs(bad)


def test_price_history_cache_is_keyed_by_currency(client, priced):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        first = client.get("/api/v1/prices/history/bitcoin", {"days": 5})
        eur = client.get("/api/v1/prices/history/bitcoin", {"days": 5, "vs": "eur"})
        again = client.get("/api/v1/prices/history/bitcoin", {"days": 5, "vs": "eur"})
    assert first["X-Cache"] == "db" and eur["X-Cache"] == "db"
    assert again["X-Cache"] == "l1" and again.content == eur.content != first.content


def test_listing_as_csv_in_eur_carries_the_rate_columns(client, priced):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/cryptocurrencies/", {"vs": "eur", "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode()
    header = text.splitlines()[0]
    assert "rate_source" in header and "rate_as_of" in header
    assert str(ETH_USD * EUR_PER_USD) in text
