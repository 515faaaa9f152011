"""PostgreSQL unreachable: a live server whose DATABASE_URL points at a closed port. Liveness
stays 200 (restarting the process would not help), readiness says 503, and requests that need
the database answer a bounded error in the envelope instead of hanging (issue 16)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from markets.live import price_cache, prices_key
from tests.live import Daphne, free_port, server_env

from .conftest import CEILING_SECONDS

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def server_without_database(tmp_path_factory) -> Iterator[Callable[..., Daphne]]:  # type: ignore[no-untyped-def]
    """``server_without_database(keep_redis=...)``: a live server whose DATABASE_URL points at
    a closed port, one per ``keep_redis`` for the module. With ``keep_redis=True`` it keeps the
    run's Redis: the shared (L2) cache outlives the database, so reads that are served
    cache-first keep answering."""
    servers: dict[bool, Daphne] = {}

    def start(*, keep_redis: bool) -> Daphne:
        if keep_redis and not os.environ.get("REDIS_URL"):
            pytest.skip("needs the shared cache of services mode (REDIS_URL)")
        if keep_redis not in servers:
            tmp: Path = tmp_path_factory.mktemp("nodb-cache" if keep_redis else "nodb")
            closed = free_port()  # nothing listens there
            env = server_env(
                tmp,
                keep_redis=keep_redis,
                DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/cryptocast",
                DATABASE_CONNECT_TIMEOUT=1,
                DATABASE_POOL_TIMEOUT=1,
                MARKET_QUOTE_PROVIDERS="replay",
            )
            servers[keep_redis] = Daphne(env, tmp / "daphne.log")
            servers[keep_redis].wait_ready()
        return servers[keep_redis]

    try:
        yield start
    finally:
        for server in servers.values():
            server.stop()


def _get(url: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = httpx.get(url, timeout=20)
    return response, time.perf_counter() - started


def test_live_stays_200_and_ready_says_503(server_without_database: Callable[..., Daphne]) -> None:
    no_database = server_without_database(keep_redis=False)
    live, took_live = _get(f"{no_database.url}/health/live")
    assert live.status_code == 200 and took_live < CEILING_SECONDS
    ready, took_ready = _get(f"{no_database.url}/health/ready")
    assert ready.status_code == 503, ready.text
    assert ready.json()["database"] == "down"
    assert took_ready < CEILING_SECONDS


@pytest.mark.parametrize("path", ["/api/v1/cryptocurrencies/", "/api/v1/prices?ids=bitcoin"])
def test_database_reads_answer_a_bounded_error_not_a_hang(
    server_without_database: Callable[..., Daphne], path: str
) -> None:
    no_database = server_without_database(keep_redis=False)
    response, took = _get(f"{no_database.url}{path}")
    assert took < CEILING_SECONDS, took
    assert response.status_code >= 500
    body = response.json()
    assert "errors" in body and "request_id" in body  # the envelope, no stack trace
    assert "Traceback" not in response.text


def test_a_cached_price_still_answers_while_the_database_is_unreachable(
    server_without_database: Callable[..., Daphne],
) -> None:
    """The /prices body a web process stored in the shared cache (here: written by this test,
    the way a healthy process would) is served by a process whose database is gone; a coin
    that was never cached needs the database and gets the bounded error."""
    no_database_with_cache = server_without_database(keep_redis=True)
    body = {
        "vs": "usd",
        "data": {"bitcoin": {"id": "bitcoin", "price": 50_000.0, "source": "replay"}},
        "missing": [],
        "stale": False,
    }
    key = prices_key(ids=["bitcoin"], vs="usd", limit=10)
    price_cache().set(key, json.dumps(body).encode(), ttl=300)
    cached, took = _get(f"{no_database_with_cache.url}/api/v1/prices?ids=bitcoin")
    assert cached.status_code == 200, cached.text
    assert cached.json()["data"]["bitcoin"]["price"] == 50_000.0 and took < CEILING_SECONDS
    uncached, took = _get(f"{no_database_with_cache.url}/api/v1/prices?ids=ethereum")
    assert uncached.status_code >= 500 and "request_id" in uncached.json()
    assert took < CEILING_SECONDS
