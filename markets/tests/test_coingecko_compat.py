"""The CoinGecko-compatible API against CoinGecko's recorded answers (contract tests).

Each test requests the same call as a recorded real CoinGecko answer in
``../shared/data/api/coingecko/`` and diffs the structure (``cg_structure.diff``); only the
differences documented in ``markets.coingecko_api.differences`` are allowed. The store is
hand-made (``cg_fixtures``); the recorded answers are real.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from markets.tests.cg_fixtures import BTC_USD, EUR_PER_USD, MYR_PER_USD, NOW, build_store
from markets.tests.cg_structure import diff

pytestmark = pytest.mark.django_db
BASE = "/coingecko/api/v3/"


@pytest.fixture
def cg_store(monkeypatch):  # type: ignore[no-untyped-def]
    from core.http import ProviderError
    from markets import providers

    def down():  # type: ignore[no-untyped-def]
        raise ProviderError("coingecko", "offline in tests")

    monkeypatch.setattr(providers, "fetch_global", down)
    monkeypatch.setattr(providers, "fetch_trending", down)
    with time_machine.travel(NOW, tick=False):
        yield build_store()


def recorded(sample_data, name):  # type: ignore[no-untyped-def]
    return json.loads((sample_data / "api" / "coingecko" / name).read_text())


def get(client, path, status=200, **params):  # type: ignore[no-untyped-def]
    response = client.get(BASE + path, params)
    assert response.status_code == status, response.content[:300]
    return response.json()


@pytest.mark.parametrize(
    ("name", "path", "endpoint", "params"),
    [
        (
            "simple_price_bitcoin_usd.json",
            "simple/price",
            "simple/price",
            {"ids": "bitcoin", "vs_currencies": "usd"},
        ),
        (
            "coins_markets_ids-bitcoin_usd.json",
            "coins/markets",
            "coins/markets",
            {"ids": "bitcoin", "vs_currency": "usd"},
        ),
        (
            "coins_markets_ids-bitcoin-ethereum_eth.json",
            "coins/markets",
            "coins/markets",
            {"ids": "bitcoin, ethereum", "vs_currency": "eth"},
        ),
        (
            "coins_markets_usd_5coins_2023-01-02.json",
            "coins/markets",
            "coins/markets",
            {"vs_currency": "usd"},
        ),
        ("coins_bitcoin.json", "coins/bitcoin", "coins/{id}", {}),
        (
            "coins_bitcoin_history_date-30-12-2017.json",
            "coins/bitcoin/history",
            "coins/{id}/history",
            {"date": "20-02-2024"},
        ),
        (
            "coins_bitcoin_market_chart_days1_usd.json",
            "coins/bitcoin/market_chart",
            "coins/{id}/market_chart",
            {"days": "1", "vs_currency": "usd"},
        ),
        (
            "coins_bitcoin_market_chart_days30_usd.json",
            "coins/bitcoin/market_chart",
            "coins/{id}/market_chart",
            {"days": "30", "vs_currency": "usd"},
        ),
        (
            "coins_bitcoin_market_chart_days90_daily_usd.json",
            "coins/bitcoin/market_chart",
            "coins/{id}/market_chart",
            {"days": "90", "vs_currency": "usd", "interval": "daily"},
        ),
        (
            "coins_bitcoin_ohlc_days7_usd.json",
            "coins/bitcoin/ohlc",
            "coins/{id}/ohlc",
            {"days": "7", "vs_currency": "usd"},
        ),
        (
            "coins_bitcoin_ohlc_days30_myr.json",
            "coins/bitcoin/ohlc",
            "coins/{id}/ohlc",
            {"days": "30", "vs_currency": "myr"},
        ),
        ("coins_list.json", "coins/list", "coins/list", {}),
        ("global.json", "global", "global", {}),
        ("search_trending.json", "search/trending", "search/trending", {}),
    ],
)
def test_answer_has_the_structure_of_the_recorded_coingecko_answer(
    client, cg_store, sample_data, name, path, endpoint, params
):  # type: ignore[no-untyped-def]
    ours = get(client, path, **params)
    assert ours, "an empty answer proves nothing"
    assert diff(recorded(sample_data, name), ours, endpoint=endpoint) == []


def test_structure_diff_catches_a_renamed_field(sample_data):  # type: ignore[no-untyped-def]
    rec = recorded(sample_data, "coins_markets_ids-bitcoin_usd.json")
    ours = [dict(rec[0])]
    ours[0]["price"] = ours[0].pop("current_price")
    ours[0]["market_cap"] = str(ours[0]["market_cap"])
    problems = diff(rec, ours, endpoint="coins/markets")
    assert "0.current_price: missing" in problems
    assert "0.price: not in the recorded answer" in problems
    assert "0.market_cap: string, recorded number" in problems


def test_ohlc_granularity_and_close_timestamps_follow_coingecko(client, cg_store):  # type: ignore[no-untyped-def]
    rows = get(client, "coins/bitcoin/ohlc", days="7", vs_currency="usd")
    stamps = [r[0] for r in rows]
    assert all(b - a == 4 * 3600 * 1000 for a, b in itertools.pairwise(stamps))
    assert 41 <= len(rows) <= 43  # CoinGecko's recorded 7-day answer has 42 4-hour candles
    assert stamps[-1] <= int(NOW.timestamp() * 1000)
    assert stamps[0] % (4 * 3600 * 1000) == 0  # a bucket's close, aligned like theirs
    rows_30m = get(client, "coins/bitcoin/ohlc", days="1", vs_currency="usd")
    assert rows_30m[1][0] - rows_30m[0][0] == 30 * 60 * 1000
    rows_4d = get(client, "coins/bitcoin/ohlc", days="90", vs_currency="usd")
    assert rows_4d[1][0] - rows_4d[0][0] == 4 * 86400 * 1000


def test_market_chart_granularity_by_days(client, cg_store):  # type: ignore[no-untyped-def]
    def spacing(days, **kw):  # type: ignore[no-untyped-def]
        pts = get(client, "coins/bitcoin/market_chart", days=days, vs_currency="usd", **kw)
        return pts["prices"][1][0] - pts["prices"][0][0], pts

    assert spacing("1")[0] == 5 * 60 * 1000
    assert spacing("30")[0] == 3600 * 1000
    assert spacing("90", interval="daily")[0] == 86400 * 1000
    assert spacing("365")[0] == 86400 * 1000
    _, pts = spacing("1")
    assert pts["prices"][-1][0] == int(NOW.timestamp() * 1000)  # the last 5-minute candle's close


def test_market_chart_range_returns_only_the_range(client, cg_store):  # type: ignore[no-untyped-def]
    start = NOW - timedelta(days=10)
    end = NOW - timedelta(days=5)
    pts = get(
        client,
        "coins/bitcoin/market_chart/range",
        vs_currency="eur",
        **{"from": str(int(start.timestamp())), "to": str(int(end.timestamp()))},
    )
    stamps = [p[0] for p in pts["prices"]]
    assert stamps and min(stamps) >= start.timestamp() * 1000
    assert max(stamps) <= end.timestamp() * 1000
    assert pts["prices"][0][1] == pytest.approx(BTC_USD * EUR_PER_USD, rel=0.01)


def test_simple_price_in_usd_eur_and_btc_with_the_include_flags(client, cg_store):  # type: ignore[no-untyped-def]
    body = get(
        client,
        "simple/price",
        ids="bitcoin,ethereum,nope",
        vs_currencies="usd,eur,btc,xyz",
        include_market_cap="true",
        include_24hr_vol="true",
        include_24hr_change="true",
        include_last_updated_at="true",
        precision="2",
    )
    assert set(body) == {"bitcoin", "ethereum"}  # unknown coins and currencies are left out
    eth = body["ethereum"]
    assert list(eth) == [
        "usd",
        "usd_market_cap",
        "usd_24h_vol",
        "usd_24h_change",
        "eur",
        "eur_market_cap",
        "eur_24h_vol",
        "eur_24h_change",
        "btc",
        "btc_market_cap",
        "btc_24h_vol",
        "btc_24h_change",
        "last_updated_at",
    ]
    assert eth["usd"] == 2500.0
    assert eth["eur"] == pytest.approx(2500.0 * EUR_PER_USD)
    assert eth["btc"] == pytest.approx(round(2500.0 / BTC_USD, 2))
    # ETH +2 % in USD while BTC fell 4 %: +6.25 % against BTC.
    assert eth["btc_24h_change"] == pytest.approx(6.25, abs=0.01)
    assert eth["last_updated_at"] == int((NOW - timedelta(seconds=30)).timestamp())


def test_simple_price_precision_full_and_bad_precision(client, cg_store):  # type: ignore[no-untyped-def]
    body = get(client, "simple/price", ids="ethereum", vs_currencies="btc", precision="full")
    assert body["ethereum"]["btc"] == 2500.0 / BTC_USD
    err = get(client, "simple/price", 400, ids="ethereum", vs_currencies="btc", precision="x")
    assert err == {"error": "invalid precision"}


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("coins/markets", {}, "Missing parameter vs_currency"),
        ("coins/markets", {"ids": "bitcoin"}, "Missing parameter vs_currency"),
        ("coins/bitcoin/market_chart", {}, "Missing parameter vs_currency"),
        ("coins/bitcoin/market_chart", {"vs_currency": "usd"}, "Missing parameter days"),
        ("coins/bitcoin/history", {}, "Missing parameter date"),
        ("coins/bitcoin/ohlc", {"vs_currency": "usd"}, "Missing parameter days"),
        ("simple/price", {"vs_currencies": "usd"}, "Missing parameter ids"),
    ],
)
def test_missing_parameters_answer_like_coingecko(client, cg_store, path, params, message):  # type: ignore[no-untyped-def]
    # The recorded cassettes hold {"error":"Missing parameter vs_currency"} / "... date" (422).
    assert get(client, path, 422, **params) == {"error": message}


def test_bad_values_are_400s_naming_the_parameter(client, cg_store):  # type: ignore[no-untyped-def]
    assert get(client, "coins/markets", 400, vs_currency="xyz") == {"error": "invalid vs_currency"}
    assert get(client, "coins/markets", 400, vs_currency="usd", per_page="0")["error"].startswith(
        "invalid per_page"
    )
    assert get(client, "coins/markets", 400, vs_currency="usd", order="price") == {
        "error": "invalid order"
    }
    assert get(client, "coins/bitcoin/history", 400, date="2017-12-30") == {
        "error": "invalid date: use dd-mm-yyyy"
    }
    assert get(client, "coins/bitcoin/ohlc", 400, vs_currency="usd", days="-1") == {
        "error": "invalid days"
    }


def test_unknown_coin_and_unknown_path_are_coingecko_404s(client, cg_store):  # type: ignore[no-untyped-def]
    assert get(client, "coins/no-such-coin", 404) == {"error": "coin not found"}
    assert get(client, "coins/no-such-coin/ohlc", 404, vs_currency="usd", days="1") == {
        "error": "coin not found"
    }
    assert "Incorrect path" in get(client, "nope/nope", 404)["error"]


def test_provenance_is_in_headers_and_not_in_the_body(client, cg_store):  # type: ignore[no-untyped-def]
    response = client.get(BASE + "simple/price", {"ids": "bitcoin", "vs_currencies": "eur"})
    assert response["X-Cryptocast-Source"] == "coingecko,frankfurter"
    assert response["X-Cryptocast-As-Of"] == "2024-03-01T00:00:00+00:00"  # the rate's day
    assert response["X-Cryptocast-Stale"] == "false"
    assert response.json() == {"bitcoin": {"eur": BTC_USD * EUR_PER_USD}}


def test_coins_markets_order_pagination_sparkline_and_changes(client, cg_store):  # type: ignore[no-untyped-def]
    rows = get(
        client,
        "coins/markets",
        vs_currency="usd",
        order="volume_desc",
        per_page="2",
        page="1",
        sparkline="true",
        price_change_percentage="1h,24h,14d",
    )
    assert [r["id"] for r in rows] == ["tether", "bitcoin"]
    assert rows[1]["sparkline_in_7d"]["price"]
    assert rows[1]["price_change_percentage_1h_in_currency"] == 0.1
    assert rows[1]["price_change_percentage_14d_in_currency"] is None
    assert rows[1]["price_change_24h"] == pytest.approx(BTC_USD - BTC_USD / 0.96)
    page2 = get(
        client, "coins/markets", vs_currency="usd", order="volume_desc", per_page="2", page="2"
    )
    assert [r["id"] for r in page2] == ["ethereum"]


def test_coins_markets_query_count_is_fixed(client, cg_store, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    with django_assert_max_num_queries(6):
        get(client, "coins/markets", vs_currency="btc", sparkline="true")


def test_coin_history_uses_that_days_price_and_rate(client, cg_store):  # type: ignore[no-untyped-def]
    body = get(client, "coins/bitcoin/history", date="20-02-2024", localization="false")
    assert "localization" not in body
    usd = body["market_data"]["current_price"]["usd"]
    assert body["market_data"]["current_price"]["myr"] == pytest.approx(usd * MYR_PER_USD)
    empty = get(client, "coins/bitcoin/history", date="01-01-2001")
    assert "market_data" not in empty  # like CoinGecko for a day before the coin's data


def test_exchange_rates_are_per_btc(client, cg_store):  # type: ignore[no-untyped-def]
    rates = get(client, "exchange_rates")["rates"]
    assert rates["btc"] == {"name": "Bitcoin", "unit": "BTC", "value": 1.0, "type": "crypto"}
    assert rates["usd"]["value"] == pytest.approx(BTC_USD)
    assert rates["eur"] == {
        "name": "Euro",
        "unit": "€",
        "value": pytest.approx(BTC_USD * 0.9),
        "type": "fiat",
    }


def test_ping_and_supported_currencies(client, cg_store):  # type: ignore[no-untyped-def]
    assert get(client, "ping") == {"gecko_says": "(V3) To the Moon!"}
    assert {"usd", "eur", "myr", "btc", "eth"} <= set(get(client, "simple/supported_vs_currencies"))


def test_api_key_in_coingecko_names_maps_to_our_keys(client, cg_store, user):  # type: ignore[no-untyped-def]
    from accounts.services import api_key_create

    _, raw = api_key_create(user=user, name="bot")
    assert get(client, "ping", x_cg_demo_api_key=raw)["gecko_says"]
    assert client.get(BASE + "ping", HTTP_X_CG_PRO_API_KEY=raw).status_code == 200
    assert get(client, "ping", 401, x_cg_demo_api_key="cc_wrong") == {"error": "invalid api key"}
    bad = client.get(BASE + "ping", HTTP_X_CG_DEMO_API_KEY="cc_wrong")
    assert bad.status_code == 401


def test_only_get_is_allowed(client, cg_store):  # type: ignore[no-untyped-def]
    assert client.post(BASE + "ping").status_code == 405


def test_the_body_is_the_same_in_every_transport_currency(client, cg_store):  # type: ignore[no-untyped-def]
    """Prices agree between /api/v1/prices and the CoinGecko API in USD, EUR and BTC."""
    for vs in ("usd", "eur", "btc"):
        ours = client.get("/api/v1/prices", {"ids": "ethereum", "vs": vs}).json()
        cg = get(client, "simple/price", ids="ethereum", vs_currencies=vs)
        assert ours["data"]["ethereum"]["price"] == pytest.approx(cg["ethereum"][vs])
        assert ours["vs"] == vs


def test_dates_are_coingecko_millisecond_iso(client, cg_store):  # type: ignore[no-untyped-def]
    row = get(client, "coins/markets", vs_currency="usd", ids="bitcoin")[0]
    assert row["last_updated"] == "2024-03-01T11:59:30.000Z"
    assert datetime.fromisoformat(row["last_updated"].replace("Z", "+00:00")).tzinfo == UTC
