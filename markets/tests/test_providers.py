"""Failover across providers (markets.providers) against recorded payloads served by respx."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
import time_machine

from core.http import provider_http
from markets import providers
from markets.tests.provider_fixtures import BN, CC, CG, json_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_providers", "sleeps")]

MARKETS = "coingecko/coins_markets_usd_5coins_2023-01-02.json"
TICKER = "binance/ticker_24hr_all_symbols_2024-01-05.json"


@pytest.fixture
def mirror(api_payload):
    """A CoinGecko + Binance mirror serving the recorded payloads (routes can be re-scripted)."""
    with respx.mock(assert_all_called=False) as mock:
        routes = {
            "cg_markets": mock.get(f"{CG}/coins/markets").mock(
                return_value=httpx.Response(200, content=api_payload(MARKETS))
            ),
            "bn_ticker": mock.get(f"{BN}/api/v3/ticker/24hr").mock(
                return_value=httpx.Response(200, content=api_payload(TICKER))
            ),
            "cc_price": mock.get(f"{CC}/data/pricemultifull").mock(
                return_value=httpx.Response(503)
            ),
        }
        yield routes


def test_first_provider_answers_without_fallback_reason(mirror):
    batch = providers.fetch_quotes(top=5)
    assert batch.source == "coingecko"
    assert batch.fallback_reason == ""
    assert [q.asset.slug for q in batch.quotes][:2] == ["bitcoin", "ethereum"]
    assert all(q.fallback_reason == "" for q in batch.quotes)
    assert [a.provider for a in batch.attempts] == ["coingecko"]


def test_coingecko_429_fails_over_to_binance_and_records_why(mirror):
    mirror["cg_markets"].mock(return_value=httpx.Response(429, headers={"Retry-After": "60"}))
    batch = providers.fetch_quotes(top=5)
    assert batch.source == "binance"
    assert batch.fallback_reason == "coingecko: 429 rate limited"
    assert {q.asset.slug for q in batch.quotes} >= {"bitcoin", "ethereum"}
    assert all(q.source == "binance" for q in batch.quotes)
    assert all(q.fallback_reason == "coingecko: 429 rate limited" for q in batch.quotes)
    assert mirror["cg_markets"].call_count == 1  # 60 s Retry-After: no in-request sleep/retry


def test_garbage_from_coingecko_fails_over_and_is_never_returned(mirror):
    mirror["cg_markets"].mock(
        return_value=httpx.Response(
            200,
            content=json_bytes(
                [{"id": "bitcoin", "symbol": "btc", "name": "Bitcoin", "current_price": -1}]
            ),
        )
    )
    batch = providers.fetch_quotes(top=5)
    assert batch.source == "binance"
    assert batch.fallback_reason.startswith("coingecko: invalid payload")
    assert all(q.price > 0 for q in batch.quotes)


def test_open_breaker_is_skipped_without_a_request(mirror):
    provider_http("coingecko").breaker.open()
    batch = providers.fetch_quotes(top=5)
    assert batch.source == "binance"
    assert batch.fallback_reason == "coingecko: circuit open"
    assert mirror["cg_markets"].call_count == 0


def test_everything_down_but_replay_answers_with_every_reason(mirror, sample_data):
    mirror["cg_markets"].mock(return_value=httpx.Response(500))
    mirror["bn_ticker"].mock(side_effect=httpx.ConnectTimeout("down"))
    batch = providers.fetch_quotes(top=3)
    assert batch.source == "replay"
    assert batch.fallback_reason == (
        "coingecko: 500 server error; binance: timeout; "
        "coincap: skipped: COINCAP_API_KEY not set; cryptocompare: 503 server error"
    )
    assert all(q.source == "replay" for q in batch.quotes)


def test_all_providers_down_raises_one_error_with_retry_after(mirror, settings):
    settings.MARKET_QUOTE_PROVIDERS = ["coingecko", "binance", "coincap"]
    mirror["cg_markets"].mock(return_value=httpx.Response(429, headers={"Retry-After": "45"}))
    mirror["bn_ticker"].mock(return_value=httpx.Response(200, content=b"<html>maintenance</html>"))
    with pytest.raises(providers.NoProviderAvailable) as info:
        providers.fetch_quotes(top=5)
    err = info.value
    assert err.retry_after == 45
    assert [a.provider for a in err.attempts] == ["coingecko", "binance", "coincap"]
    assert "binance: invalid payload (HTML instead of JSON)" in err.reason


def test_a_single_named_provider_is_used_alone(mirror):
    batch = providers.fetch_quotes(top=5, provider="binance")
    assert batch.source == "binance"
    assert mirror["cg_markets"].call_count == 0


def test_unknown_provider_is_refused():
    with pytest.raises(ValueError, match="unknown provider"):
        providers.fetch_quotes(provider="nope")


def test_ids_are_mapped_to_each_provider_id(mirror):
    mirror["cg_markets"].mock(return_value=httpx.Response(503))
    batch = providers.fetch_quotes(ids=["ethereum", "bitcoin"])
    assert batch.source == "binance"
    assert {q.asset.slug for q in batch.quotes} == {"bitcoin", "ethereum"}
    assert '"BTCUSDT"' in mirror["bn_ticker"].calls.last.request.url.params["symbols"]


def test_sync_markets_stores_the_failover_reason_and_never_garbage(mirror):
    """End to end through A1's sync service: the mirror's 429 -> Binance rows with the reason."""
    from markets import selectors, services

    mirror["cg_markets"].mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))
    result = services.markets_sync(top=5)
    assert result.source == "binance"
    quotes = {q.asset_id: q for q in selectors.latest_quotes(ids=["bitcoin", "ethereum"])}
    assert quotes["bitcoin"].source == "binance"
    assert quotes["bitcoin"].fallback_reason == "coingecko: 429 rate limited"
    assert quotes["bitcoin"].price > 0


def test_fetch_klines_pages_binance(api_payload):
    import json

    rows = json.loads(api_payload("binance/klines_ETHUSDT_3d_2017-08-17_to_2024-01-04.json"))

    def page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["startTime"])
        return httpx.Response(200, content=json_bytes([r for r in rows if r[0] >= start][:1000]))

    with respx.mock:
        respx.get(f"{BN}/api/v3/klines").mock(side_effect=page)
        with time_machine.travel(datetime(2024, 1, 10, tzinfo=UTC), tick=False):
            candles = providers.fetch_klines(
                binance_symbol="ETHUSDT",
                interval="3d",
                start=datetime(2017, 8, 17, tzinfo=UTC),
                end=datetime(2024, 1, 10, tzinfo=UTC),
            )
    assert len(candles) == 778


def test_fetch_global_and_trending(api_payload):
    with respx.mock:
        respx.get(f"{CG}/global").mock(
            return_value=httpx.Response(200, content=api_payload("coingecko/global.json"))
        )
        respx.get(f"{CG}/search/trending").mock(
            return_value=httpx.Response(200, content=api_payload("coingecko/search_trending.json"))
        )
        assert providers.fetch_global().total_volume_usd > 0
        assert len(providers.fetch_trending()) == 7


def test_rate_limit_status_and_recommendations_reflect_429s(mirror):
    mirror["cg_markets"].mock(return_value=httpx.Response(429, headers={"Retry-After": "60"}))
    providers.fetch_quotes(top=5)
    status = providers.rate_limit_status("coingecko")
    assert status["calls"] == 1
    assert status["rate_limited"] == 1
    assert status["last_error"] == "429 rate limited"
    assert status["breaker_state"] == "closed"
    advice = providers.rate_limit_recommendations()
    assert any(a["provider"] == "coingecko" and a["severity"] == "warning" for a in advice)
    assert any(a["provider"] == "coincap" and "COINCAP_API_KEY" in a["advice"] for a in advice)


def test_breaker_summary_for_health(mirror):
    provider_http("binance").breaker.open()
    summary = providers.breaker_summary()
    assert summary["open"] == ["binance"]
    assert summary["ok"] is True
    assert "binance" not in summary["quote_providers_usable"]
