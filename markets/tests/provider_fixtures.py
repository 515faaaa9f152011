"""Fixtures of the provider/HTTP/cache tests (use ``pytestmark = usefixtures("fresh_providers")``).

Every test starts with fresh provider clients, closed breakers, full budgets (in memory) and
no real sleeping: ``time.sleep`` is replaced by a recorder so retry waits can be asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core import http as core_http

CG = "https://cg.test/api/v3"
BN = "https://bn.test"
CC = "https://cc.test"
CAP = "https://cap.test/v3"


@pytest.fixture
def fresh_providers(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.COINGECKO_API_URL = CG
    settings.BINANCE_API_URL = BN
    settings.CRYPTOCOMPARE_API_URL = CC
    settings.COINCAP_API_URL = CAP
    settings.COINCAP_API_KEY = ""
    settings.COINGECKO_API_KEY = ""
    settings.PROVIDER_BUDGET_SQLITE_PATH = ""
    settings.PROVIDER_RETRY_ATTEMPTS = 3
    settings.PROVIDER_RETRY_AFTER_CAP_SECONDS = 2.0
    settings.PROVIDER_BREAKER_FAIL_MAX = 3
    settings.PROVIDER_BREAKER_RESET_SECONDS = 60.0
    settings.PROVIDER_BUDGETS = {"coingecko": 50, "binance": 50, "coincap": 50, "cryptocompare": 50}
    settings.MARKET_QUOTE_PROVIDERS = ["coingecko", "binance", "coincap", "cryptocompare", "replay"]
    core_http.reset_providers()
    yield
    core_http.reset_providers()


@pytest.fixture
def sleeps(monkeypatch):  # type: ignore[no-untyped-def]
    """Retry waits, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("time.sleep", lambda s: waited.append(s))
    return waited


@pytest.fixture
def api_payload(sample_data: Path):  # type: ignore[no-untyped-def]
    """Raw bytes of a recorded API response under ``api/``."""

    def load(relative: str) -> bytes:
        return (sample_data / "api" / relative).read_bytes()

    return load


def json_bytes(obj: object) -> bytes:
    return json.dumps(obj).encode()
