"""PostgreSQL unreachable: a live server whose DATABASE_URL points at a closed port. Liveness
stays 200 (restarting the process would not help), readiness says 503, and requests that need
the database answer a bounded error in the envelope instead of hanging (issue 16)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import Daphne, free_port, server_env

from .conftest import CEILING_SECONDS

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def no_database(tmp_path_factory) -> Iterator[Daphne]:  # type: ignore[no-untyped-def]
    tmp: Path = tmp_path_factory.mktemp("nodb")
    closed = free_port()  # nothing listens there
    env = server_env(
        tmp,
        keep_redis=False,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/cryptocast",
        DATABASE_CONNECT_TIMEOUT=1,
        DATABASE_POOL_TIMEOUT=1,
        MARKET_QUOTE_PROVIDERS="replay",
    )
    server = Daphne(env, tmp / "daphne.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _get(url: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = httpx.get(url, timeout=20)
    return response, time.perf_counter() - started


def test_live_stays_200_and_ready_says_503(no_database: Daphne) -> None:
    live, took_live = _get(f"{no_database.url}/health/live")
    assert live.status_code == 200 and took_live < CEILING_SECONDS
    ready, took_ready = _get(f"{no_database.url}/health/ready")
    assert ready.status_code == 503, ready.text
    assert ready.json()["database"] == "down"
    assert took_ready < CEILING_SECONDS


@pytest.mark.parametrize("path", ["/api/v1/cryptocurrencies/", "/api/v1/prices?ids=bitcoin"])
def test_database_reads_answer_a_bounded_error_not_a_hang(no_database: Daphne, path: str) -> None:
    response, took = _get(f"{no_database.url}{path}")
    assert took < CEILING_SECONDS, took
    assert response.status_code >= 500
    body = response.json()
    assert "errors" in body and "request_id" in body  # the envelope, no stack trace
    assert "Traceback" not in response.text
