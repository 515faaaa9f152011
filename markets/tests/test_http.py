"""The resilient HTTP layer (core.http) as the vendor clients use it: retries honouring
Retry-After, fail-fast over the cap, the breaker, the budget, garbage, stats and metrics."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pybreaker
import pytest
import respx
import time_machine
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from core import http as core_http
from core.http import ProviderError, decode_json, parse_retry_after, provider_http
from markets.clients import coingecko
from markets.tests.provider_fixtures import CG, json_bytes

pytestmark = pytest.mark.usefixtures("fresh_providers")

GOOD = json_bytes({"bitcoin": {"usd": 49013}})


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_retry_after_parses_seconds_and_http_dates():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=42), usegmt=True), now=now) == 42
    )
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


@respx.mock
def test_429_with_short_retry_after_is_retried_after_exactly_that_wait(sleeps):
    route = respx.get(f"{CG}/simple/price").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(200, content=GOOD),
        ]
    )
    assert coingecko.simple_price(ids=["bitcoin"]) == {"bitcoin": 49013}
    assert route.call_count == 2
    assert sleeps == [1.0]
    stats = provider_http("coingecko").stats()
    assert stats["rate_limited"] == 1
    assert stats["calls"] == 2
    assert stats["ok"] == 1
    assert stats["last_success"]


@respx.mock
def test_429_with_http_date_retry_after_is_honoured(sleeps):
    frozen = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    when = format_datetime(frozen + timedelta(seconds=2), usegmt=True)
    respx.get(f"{CG}/simple/price").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": when}),
            httpx.Response(200, content=GOOD),
        ]
    )
    with time_machine.travel(frozen, tick=False):
        assert coingecko.simple_price(ids=["bitcoin"]) == {"bitcoin": 49013}
    assert sleeps == [2.0]


@respx.mock
def test_long_retry_after_fails_fast_with_the_wait_recorded(sleeps):
    route = respx.get(f"{CG}/simple/price").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "120"})
    )
    with pytest.raises(ProviderError) as info:
        coingecko.simple_price(ids=["bitcoin"])
    assert info.value.reason == "429 rate limited"
    assert info.value.retry_after == 120
    assert route.call_count == 1  # no retry: never sleep 2 minutes inside a request
    assert sleeps == []
    assert provider_http("coingecko").stats()["last_retry_after"] == 120


@respx.mock
def test_5xx_is_retried_with_bounded_exponential_backoff(sleeps):
    route = respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(503))
    with pytest.raises(ProviderError) as info:
        coingecko.simple_price(ids=["bitcoin"])
    assert info.value.reason == "503 server error"
    assert route.call_count == 3  # PROVIDER_RETRY_ATTEMPTS
    assert len(sleeps) == 2
    assert all(0 < s <= 4.0 for s in sleeps)


@respx.mock
def test_timeouts_are_provider_failures(sleeps):
    respx.get(f"{CG}/simple/price").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderError) as info:
        coingecko.simple_price(ids=["bitcoin"])
    assert info.value.reason == "timeout"


@respx.mock
def test_5xx_burst_opens_the_breaker_then_calls_fail_fast(sleeps):
    route = respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(500))
    for _ in range(3):  # PROVIDER_BREAKER_FAIL_MAX
        with pytest.raises(ProviderError):
            coingecko.simple_price(ids=["bitcoin"])
    assert provider_http("coingecko").breaker_state() == "open"
    sent = route.call_count
    with pytest.raises(ProviderError) as info:
        coingecko.simple_price(ids=["bitcoin"])
    assert info.value.reason == "circuit open"
    assert 0 < info.value.retry_after <= 60
    assert route.call_count == sent  # no request while open
    assert provider_http("coingecko").budget_left() == 50 - sent  # and no budget spent
    assert _metric("cryptocast_provider_breaker_state", provider="coingecko") == 2
    stats = provider_http("coingecko").stats()
    assert stats["circuit_open"] == 1
    assert stats["breaker_state"] == "open"


@respx.mock
def test_breaker_half_opens_after_the_reset_timeout_and_closes_on_success(sleeps):
    route = respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(500))
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            with pytest.raises(ProviderError):
                coingecko.simple_price(ids=["bitcoin"])
    route.mock(return_value=httpx.Response(200, content=GOOD))
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert coingecko.simple_price(ids=["bitcoin"]) == {"bitcoin": 49013}
    assert provider_http("coingecko").breaker_state() == "closed"


@respx.mock
def test_client_errors_do_not_count_against_the_breaker(sleeps):
    respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(404))
    for _ in range(5):
        with pytest.raises(ProviderError) as info:
            coingecko.simple_price(ids=["nope"])
        assert info.value.reason == "404 client error"
    assert provider_http("coingecko").breaker_state() == "closed"


@respx.mock
def test_budget_exhaustion_refuses_without_a_request(settings, sleeps):
    settings.PROVIDER_BUDGETS = {"coingecko": 2}
    core_http.reset_providers()
    route = respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(200, content=GOOD))
    coingecko.simple_price(ids=["bitcoin"])
    coingecko.simple_price(ids=["bitcoin"])
    assert provider_http("coingecko").budget_left() == 0
    with pytest.raises(ProviderError) as info:
        coingecko.simple_price(ids=["bitcoin"])
    assert info.value.reason == "request budget exhausted"
    assert 0 < info.value.retry_after <= 60
    assert info.value.counts is False
    assert route.call_count == 2
    assert provider_http("coingecko").stats()["budget_exhausted"] == 1
    assert provider_http("coingecko").breaker_state() == "closed"


def test_budget_is_shared_through_a_sqlite_file_between_clients(settings, tmp_path):
    """Two processes = two ProviderHttp instances on the same bucket file."""
    settings.PROVIDER_BUDGET_SQLITE_PATH = str(tmp_path / "budget.sqlite")
    settings.PROVIDER_BUDGETS = {"coingecko": 3}
    config = core_http._factories["coingecko"]()
    a = core_http.ProviderHttp(config)
    b = core_http.ProviderHttp(config)
    try:
        a._acquire_budget()
        b._acquire_budget()
        a._acquire_budget()
        with pytest.raises(ProviderError):
            b._acquire_budget()
        assert a.budget_left() == 0
    finally:
        a.close()
        b.close()


@pytest.mark.redis
def test_breaker_state_is_shared_through_redis(settings, sleeps):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    config = core_http._factories["coingecko"]()
    a = core_http.ProviderHttp(config)
    b = core_http.ProviderHttp(config)
    try:
        a.breaker.open()
        assert b.breaker_state() == "open"
        b.reset()
        assert a.breaker_state() == "closed"
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><body>Cloudflare</body></html>", "HTML"),
        (b'{"bitcoin": {"usd": 490', "malformed JSON"),
        (b'{"bitcoin": {"usd": NaN}}', "non-finite"),
        (b'{"bitcoin": {"usd": -5}}', "greater than 0"),
        (b'{"bitcoin": {"usd": "49013"}}', "valid number"),
        (b'{"bitcoin": {"usd": 1e999}}', "finite"),
    ],
)
@respx.mock
def test_garbage_bodies_are_provider_failures(body, reason, sleeps):
    respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(200, content=body))
    with pytest.raises(ProviderError) as info:
        coingecko.simple_price(ids=["bitcoin"])
    assert info.value.reason.startswith("invalid payload")
    assert reason.lower() in info.value.reason.lower()
    assert info.value.counts is True
    assert provider_http("coingecko").breaker._state_storage.counter == 1


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)


@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(st.binary(max_size=60), _json_values.map(json_bytes)))
def test_arbitrary_bodies_never_yield_a_bad_price(body):
    core_http.reset_providers()
    with respx.mock:
        respx.get(f"{CG}/coins/markets").mock(return_value=httpx.Response(200, content=body))
        try:
            quotes = coingecko.coins_markets(per_page=5)
        except ProviderError as exc:
            reason = exc.reason
            quotes = []
        else:
            reason = "invalid payload"
        assert reason.startswith("invalid payload")
    for q in quotes:  # only a well-formed list can get here
        assert math.isfinite(q.price) and q.price > 0


def test_decode_json_rejects_infinity_literals():
    with pytest.raises(ValueError, match="non-finite"):
        decode_json(b"[Infinity]")


@respx.mock
def test_outcomes_are_prometheus_counters(sleeps):
    before = _metric(
        "cryptocast_provider_requests_total", provider="coingecko", outcome="rate_limited"
    )
    respx.get(f"{CG}/simple/price").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "600"})
    )
    with pytest.raises(ProviderError):
        coingecko.simple_price(ids=["bitcoin"])
    after = _metric(
        "cryptocast_provider_requests_total", provider="coingecko", outcome="rate_limited"
    )
    assert after == before + 1


def test_credentials_are_read_when_the_client_is_built_not_at_import(settings):
    settings.COINGECKO_API_KEY = "demo-key-1"
    core_http.reset_providers()
    assert provider_http("coingecko").client.headers["x-cg-demo-api-key"] == "demo-key-1"
    settings.COINGECKO_API_KEY = "demo-key-2"
    core_http.reset_providers()
    assert provider_http("coingecko").client.headers["x-cg-demo-api-key"] == "demo-key-2"


def test_reset_clears_stats_breaker_and_budget(sleeps):
    p = provider_http("coingecko")
    p.breaker.open()
    p._acquire_budget()
    core_http._stat_incr("coingecko", "calls")
    p.reset()
    stats = p.stats()
    assert stats["breaker_state"] == "closed"
    assert stats["calls"] == 0
    assert stats["budget_left"] == stats["budget_limit"]


@respx.mock
def test_provider_calls_survive_a_dead_redis(settings, sleeps):
    """Breaker state and budget fall back to in-process stores when Redis is unreachable."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    core_http.reset_providers()
    respx.get(f"{CG}/simple/price").mock(return_value=httpx.Response(200, content=GOOD))
    started = time.perf_counter()
    assert coingecko.simple_price(ids=["bitcoin"]) == {"bitcoin": 49013}
    assert time.perf_counter() - started < 2.0
    p = provider_http("coingecko")
    assert isinstance(p.breaker._state_storage, pybreaker.CircuitMemoryStorage)
    assert p.breaker_state() == "closed"
