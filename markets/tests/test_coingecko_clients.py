"""Real clients against a live test server: pycoingecko 3.2 (pinned in the dev dependencies)
and a plain ``requests`` script written for CoinGecko, with nothing changed but the base URL.

Each answer's structure is diffed with CoinGecko's recorded answer to the same call.
The store is hand-made (``cg_fixtures``); the recorded answers are real.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import requests
import time_machine
from pycoingecko import CoinGeckoAPI

from markets.tests.cg_fixtures import BTC_USD, EUR_PER_USD, NOW, build_store
from markets.tests.cg_structure import diff


@pytest.fixture
def cg(live_server, monkeypatch):  # type: ignore[no-untyped-def]
    from core.http import ProviderError
    from markets import providers

    def down():  # type: ignore[no-untyped-def]
        raise ProviderError("coingecko", "offline in tests")

    monkeypatch.setattr(providers, "fetch_global", down)
    monkeypatch.setattr(providers, "fetch_trending", down)
    with time_machine.travel(NOW, tick=False):
        build_store()
        api = CoinGeckoAPI()
        api.api_base_url = f"{live_server.url}/coingecko/api/v3/"
        yield api


def rec(sample_data, name):  # type: ignore[no-untyped-def]
    return json.loads((sample_data / "api" / "coingecko" / name).read_text())


@pytest.mark.django_db(transaction=True)
def test_pycoingecko_every_method_matches_the_recorded_structure(cg, sample_data):  # type: ignore[no-untyped-def]
    assert cg.ping() == {"gecko_says": "(V3) To the Moon!"}
    checks = [
        (
            cg.get_price(ids="bitcoin", vs_currencies="usd"),
            "simple_price_bitcoin_usd.json",
            "simple/price",
        ),
        (
            cg.get_coins_markets(vs_currency="usd", ids="bitcoin"),
            "coins_markets_ids-bitcoin_usd.json",
            "coins/markets",
        ),
        (
            cg.get_coins_markets(vs_currency="eth", ids="bitcoin,ethereum"),
            "coins_markets_ids-bitcoin-ethereum_eth.json",
            "coins/markets",
        ),
        (cg.get_coin_by_id("bitcoin"), "coins_bitcoin.json", "coins/{id}"),
        (
            cg.get_coin_history_by_id("bitcoin", date="20-02-2024"),
            "coins_bitcoin_history_date-30-12-2017.json",
            "coins/{id}/history",
        ),
        (
            cg.get_coin_market_chart_by_id("bitcoin", vs_currency="usd", days=30),
            "coins_bitcoin_market_chart_days30_usd.json",
            "coins/{id}/market_chart",
        ),
        (
            cg.get_coin_market_chart_by_id("bitcoin", vs_currency="usd", days=90, interval="daily"),
            "coins_bitcoin_market_chart_days90_daily_usd.json",
            "coins/{id}/market_chart",
        ),
        (
            cg.get_coin_market_chart_range_by_id(
                "bitcoin",
                vs_currency="usd",
                from_timestamp=int((NOW - timedelta(days=20)).timestamp()),
                to_timestamp=int(NOW.timestamp()),
            ),
            "coins_bitcoin_market_chart_days30_usd.json",
            "coins/{id}/market_chart",
        ),
        (
            cg.get_coin_ohlc_by_id("bitcoin", vs_currency="usd", days=7),
            "coins_bitcoin_ohlc_days7_usd.json",
            "coins/{id}/ohlc",
        ),
        (
            cg.get_coin_ohlc_by_id("bitcoin", vs_currency="myr", days=30),
            "coins_bitcoin_ohlc_days30_myr.json",
            "coins/{id}/ohlc",
        ),
        (cg.get_coins_list(), "coins_list.json", "coins/list"),
        ({"data": cg.get_global()}, "global.json", "global"),
        (cg.get_search_trending(), "search_trending.json", "search/trending"),
    ]
    for ours, name, endpoint in checks:
        assert ours, name
        assert diff(rec(sample_data, name), ours, endpoint=endpoint) == [], name
    assert "eur" in cg.get_supported_vs_currencies()
    assert cg.get_exchange_rates()["rates"]["btc"]["value"] == 1.0


@pytest.mark.django_db(transaction=True)
def test_pycoingecko_in_usd_eur_and_btc(cg):  # type: ignore[no-untyped-def]
    prices = cg.get_price(ids="bitcoin,ethereum", vs_currencies="usd,eur,btc")
    assert prices["bitcoin"]["usd"] == BTC_USD
    assert prices["bitcoin"]["eur"] == pytest.approx(BTC_USD * EUR_PER_USD)
    assert prices["bitcoin"]["btc"] == pytest.approx(1.0)
    assert prices["ethereum"]["btc"] == pytest.approx(2500.0 / BTC_USD)


@pytest.mark.django_db(transaction=True)
def test_pycoingecko_errors_raise_like_against_coingecko(cg):  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="coin not found"):
        cg.get_coin_by_id("no-such-coin")
    with pytest.raises(ValueError, match="invalid vs_currency"):
        cg.get_coins_markets(vs_currency="xyz")


@pytest.mark.django_db(transaction=True)
def test_pycoingecko_with_a_demo_key_in_the_query(cg, django_user_model):  # type: ignore[no-untyped-def]
    from accounts.services import api_key_create

    user = django_user_model.objects.create_user(email="bot@example.com", password="x-long-pass-1")
    _, raw = api_key_create(user=user, name="bot")
    keyed = CoinGeckoAPI(demo_api_key=raw)
    keyed.api_base_url = cg.api_base_url
    assert keyed.ping()["gecko_says"]
    wrong = CoinGeckoAPI(demo_api_key="cc_wrong")
    wrong.api_base_url = cg.api_base_url
    with pytest.raises(ValueError, match="invalid api key"):
        wrong.ping()


@pytest.mark.django_db(transaction=True)
def test_plain_requests_script_written_for_coingecko(cg, sample_data):  # type: ignore[no-untyped-def]
    base = cg.api_base_url.rstrip("/")  # the only change: the base URL
    r = requests.get(
        f"{base}/coins/markets", params={"vs_currency": "eur", "ids": "bitcoin"}, timeout=10
    )
    r.raise_for_status()
    (row,) = r.json()
    assert row["current_price"] == pytest.approx(BTC_USD * EUR_PER_USD)
    assert r.headers["X-Cryptocast-Source"] == "coingecko,frankfurter"
    chart = requests.get(
        f"{base}/coins/bitcoin/market_chart", params={"vs_currency": "usd", "days": 1}, timeout=10
    ).json()
    assert (
        diff(
            rec(sample_data, "coins_bitcoin_market_chart_days1_usd.json"),
            chart,
            endpoint="coins/{id}/market_chart",
        )
        == []
    )
    missing = requests.get(f"{base}/coins/markets", timeout=10)
    assert (missing.status_code, missing.json()) == (
        422,
        {"error": "Missing parameter vs_currency"},
    )
