"""Cache-first live price endpoints, cache-only reads, provider ops endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx
import time_machine
from django.core.cache.backends.redis import RedisCache

from core.http import provider_http
from markets import live, services
from markets.clients.known_assets import KNOWN_ASSETS
from markets.contracts import CandleData, QuoteBatch, QuoteData
from markets.tests.provider_fixtures import BN, CG

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("fresh_providers", "fresh_price_cache"),
]
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PROVENANCE = {"source", "as_of", "fetched_at", "stale", "fallback_reason"}


@pytest.fixture
def api_client(api_client):
    """503s are answers here, not crashes (the envelope handler reports 5xx to Django)."""
    api_client.raise_request_exception = False
    return api_client


@pytest.fixture
def fresh_price_cache():
    live.reset_price_cache()
    yield
    live.reset_price_cache()


def _store(*slugs: str, as_of: datetime = NOW, source: str = "coingecko", reason: str = "") -> None:
    quotes = tuple(
        QuoteData(
            asset=KNOWN_ASSETS[s],
            price=100.0 * (i + 1),
            source=source,
            as_of=as_of,
            fetched_at=as_of,
            market_cap=1e9 / (i + 1),
            change_24h=1.5,
            fallback_reason=reason,
        )
        for i, s in enumerate(slugs)
    )
    services.quotes_store(batch=QuoteBatch(quotes=quotes, source=source, fallback_reason=reason))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False) as t:
        yield t


def test_prices_snapshot_has_provenance_and_then_comes_from_cache(
    api_client, frozen, django_assert_num_queries
):
    _store("bitcoin", "ethereum", reason="coingecko: 429 rate limited", source="binance")
    r = api_client.get("/api/v1/prices", {"ids": "bitcoin,ethereum", "vs": "usd"})
    assert r.status_code == 200
    assert r["X-Cache"] == "db"
    body = r.json()
    assert set(body["data"]) == {"bitcoin", "ethereum"}
    btc = body["data"]["bitcoin"]
    assert set(btc) >= PROVENANCE
    assert btc["source"] == "binance"
    assert btc["as_of"] == "2026-01-05T12:00:00Z"
    assert btc["stale"] is False
    assert btc["fallback_reason"] == "coingecko: 429 rate limited"
    with django_assert_num_queries(0):
        again = api_client.get("/api/v1/prices", {"ids": "ethereum,bitcoin"})
    assert again["X-Cache"] == "l1"
    assert again.content == r.content


def test_prices_reports_missing_ids(api_client, frozen):
    _store("bitcoin")
    body = api_client.get("/api/v1/prices", {"ids": "bitcoin,solana"}).json()
    assert body["missing"] == ["solana"]


def test_old_quotes_are_marked_stale(api_client, settings):
    settings.MARKETS_QUOTE_STALE_SECONDS = 300
    _store("bitcoin")
    with time_machine.travel(NOW + timedelta(minutes=10), tick=False):
        body = api_client.get("/api/v1/prices", {"ids": "bitcoin"}).json()
    assert body["data"]["bitcoin"]["stale"] is True
    assert body["stale"] is True


def test_no_data_at_all_is_503_with_retry_after(api_client, settings):
    from markets.tests.data_helpers import make_asset

    settings.PRICES_RETRY_AFTER_SECONDS = 17
    make_asset()  # a known asset without a quote yet (an unknown id is a 404)
    r = api_client.get("/api/v1/prices", {"ids": "bitcoin"})
    assert r.status_code == 503
    assert r["Retry-After"] == "17"
    body = r.json()
    assert body["status"] == 503
    assert body["errors"][0]["code"] == "service_unavailable"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ids": "bitcoin", "vs": "eur"}, "vs"),
        ({"ids": "Bit coin!"}, "ids"),
        ({"ids": ",".join(f"c{i}" for i in range(51))}, "ids"),
        ({"limit": "0"}, "limit"),
    ],
)
def test_bad_query_is_400_naming_the_field(api_client, params, field):
    r = api_client.get("/api/v1/prices", params)
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == field


def test_redis_down_answers_from_the_database_marked_stale(api_client, frozen, monkeypatch):
    _store("bitcoin")
    dead = RedisCache(
        "redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.1, "socket_timeout": 0.1}}
    )
    monkeypatch.setattr(live.price_cache(), "_backend", dead)
    r = api_client.get("/api/v1/prices", {"ids": "bitcoin"})
    assert r.status_code == 200
    body = r.json()
    assert body["data"]["bitcoin"]["price"] == 100.0
    assert body["data"]["bitcoin"]["stale"] is True
    # The next request is served from L1 without retrying Redis inside the back-off window.
    failures = live.price_cache().l2_failures
    assert api_client.get("/api/v1/prices", {"ids": "bitcoin"})["X-Cache"] == "l1"
    assert live.price_cache().l2_failures == failures


def test_market_lists_top_assets_by_rank(api_client, frozen):
    _store("bitcoin", "ethereum", "solana")
    body = api_client.get("/api/v1/prices/market", {"limit": 2}).json()
    assert [d["id"] for d in body["data"]] == ["bitcoin", "ethereum"]
    assert body["count"] == 2
    assert all(set(d) >= PROVENANCE for d in body["data"])


def test_quick_reads_are_cache_only(api_client, frozen, django_assert_num_queries):
    _store("bitcoin", "ethereum")
    with django_assert_num_queries(0):
        cold = api_client.get("/api/v1/quick/prices", {"ids": "bitcoin"})
    assert cold.status_code == 503
    assert "Retry-After" in cold
    api_client.get("/api/v1/prices/market")  # fills the board
    with django_assert_num_queries(0):
        r = api_client.get("/api/v1/quick/prices", {"ids": "bitcoin"})
        m = api_client.get("/api/v1/quick/market", {"limit": 1})
    assert r.status_code == 200
    assert r.json()["data"]["bitcoin"]["source"] == "coingecko"
    assert [d["id"] for d in m.json()["data"]] == ["bitcoin"]


def test_board_refresh_feeds_quick_reads(api_client, frozen):
    _store("bitcoin")
    assert live.board_refresh() == 1
    assert api_client.get("/api/v1/quick/market").status_code == 200


def test_price_history_from_candles_with_provenance(api_client, frozen):
    from markets.models import Asset

    _store("bitcoin")
    asset = Asset.objects.get(pk="bitcoin")
    candles = [
        CandleData(
            open_time=datetime(2026, 1, d, tzinfo=UTC),
            open=10,
            high=12,
            low=9,
            close=11,
            volume=5,
            source="binance",
        )
        for d in range(1, 5)
    ]
    services.candles_upsert(asset=asset, interval="1d", candles=candles)
    r = api_client.get("/api/v1/prices/history/BTC", {"days": 7, "interval": "1d"})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 4
    assert body["source"] == "binance"
    assert body["as_of"] == "2026-01-04T00:00:00Z"
    assert body["data"][0] == {
        "time": "2026-01-01T00:00:00Z",
        "open": 10.0,
        "high": 12.0,
        "low": 9.0,
        "close": 11.0,
        "volume": 5.0,
        "source": "binance",
    }


def test_price_history_bad_input(api_client, frozen):
    _store("bitcoin")
    assert api_client.get("/api/v1/prices/history/nope-coin").status_code == 404
    r = api_client.get("/api/v1/prices/history/bitcoin", {"interval": "1m", "days": 30})
    assert r.status_code == 400
    assert r.json()["errors"][0]["attr"] == "days"
    assert api_client.get("/api/v1/prices/history/bitcoin", {"days": 3}).status_code == 503


# --- ops -------------------------------------------------------------------------------------
def test_rate_limit_status_lists_every_provider(api_client):
    body = api_client.get("/api/v1/rate-limit/status").json()
    names = [p["provider"] for p in body["providers"]]
    assert names == ["coingecko", "binance", "coincap", "cryptocompare", "replay"]
    cg = body["providers"][0]
    assert {"calls", "rate_limited", "budget_left", "breaker_state", "last_success"} <= set(cg)
    assert body["providers"][2]["configured"] is False


def test_rate_limit_status_of_one_provider_and_unknown(api_client):
    assert api_client.get("/api/v1/rate-limit/status/binance").json()["provider"] == "binance"
    assert api_client.get("/api/v1/rate-limit/status/nope").status_code == 404


def test_recommendations(api_client):
    body = api_client.get("/api/v1/rate-limit/recommendations").json()
    assert any("COINCAP_API_KEY" in r["advice"] for r in body["recommendations"])


def test_reset_stats_is_staff_only(user, staff_user):
    from rest_framework.test import APIClient

    provider_http("coingecko").breaker.open()
    assert APIClient().post("/api/v1/rate-limit/reset-stats").status_code in (401, 403)
    auth_client = APIClient()
    auth_client.force_authenticate(user=user)
    assert auth_client.post("/api/v1/rate-limit/reset-stats").status_code == 403
    assert provider_http("coingecko").breaker_state() == "open"
    staff_client = APIClient()
    staff_client.force_authenticate(user=staff_user)
    r = staff_client.post("/api/v1/rate-limit/reset-stats?provider=coingecko")
    assert r.status_code == 200
    assert r.json() == {"reset": ["coingecko"]}
    assert provider_http("coingecko").breaker_state() == "closed"
    bad = staff_client.post("/api/v1/rate-limit/reset-stats?provider=nope")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "provider"


def test_data_sources_health_probes_each_provider(api_client, settings, sample_data, sleeps):
    with respx.mock(assert_all_called=False) as mock:
        mock.get(f"{CG}/ping").mock(
            return_value=httpx.Response(200, json={"gecko_says": "(V3) To the Moon!"})
        )
        mock.get(f"{BN}/api/v3/ping").mock(return_value=httpx.Response(503))
        mock.get(url__regex=r"https://cc\.test/.*").mock(
            return_value=httpx.Response(429, headers={"Retry-After": "99"})
        )
        r = api_client.get("/api/v1/data-sources/health")
        assert r.status_code == 200
        body = r.json()
        by_name = {p["provider"]: p for p in body["providers"]}
        assert body["status"] == "degraded"
        assert by_name["coingecko"]["ok"] is True
        assert by_name["binance"]["ok"] is False
        assert by_name["binance"]["reason"] == "503 server error"
        assert by_name["coincap"]["configured"] is False
        assert by_name["replay"]["ok"] is True
        dead = api_client.get("/api/v1/data-sources/health/cryptocompare")
        assert dead.status_code == 503
        assert dead["Retry-After"] == "99"
        assert api_client.get("/api/v1/data-sources/health/coingecko").status_code == 200
        assert api_client.get("/api/v1/data-sources/health/nope").status_code == 404


def test_health_detailed_includes_provider_breakers(api_client):
    provider_http("binance").breaker.open()
    body = api_client.get("/health/detailed").json()
    assert body["components"]["market_providers"]["open"] == ["binance"]


def test_provider_figures_are_prometheus_metrics(api_client):
    provider_http("coingecko").breaker.open()
    provider_http("coingecko").breaker_state()
    text = api_client.get("/metrics").content.decode()
    assert 'cryptocast_provider_breaker_state{provider="coingecko"} 2.0' in text
    assert "cryptocast_provider_requests_total" in text


def test_a_prices_miss_also_warms_the_board_for_quick_reads(api_client, frozen):
    _store("bitcoin", "ethereum")
    api_client.get("/api/v1/prices", {"ids": "bitcoin"})
    r = api_client.get("/api/v1/quick/prices", {"ids": "ethereum"})
    assert r.status_code == 200
    assert r.json()["data"]["ethereum"]["price"] == 200.0
