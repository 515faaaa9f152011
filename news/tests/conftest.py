"""Fixtures of the news tests: fresh HTTP providers, recorded feeds, a few assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import http as core_http


@pytest.fixture(autouse=True)
def _fresh_news_providers(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.PROVIDER_BUDGET_SQLITE_PATH = ""
    settings.PROVIDER_RETRY_ATTEMPTS = 2
    settings.PROVIDER_BREAKER_FAIL_MAX = 3
    settings.CRYPTOPANIC_API_KEY = ""
    monkeypatch.setattr("time.sleep", lambda s: None)  # retry waits are not slept
    core_http.reset_providers()
    yield
    core_http.reset_providers()


@pytest.fixture
def rss(sample_data: Path):  # type: ignore[no-untyped-def]
    """Raw bytes of a recorded feed under ``news/rss/``."""

    def load(name: str) -> bytes:
        return (sample_data / "news" / "rss" / name).read_bytes()

    return load


@pytest.fixture
def gdelt_bytes(sample_data: Path) -> bytes:
    return (sample_data / "news" / "gdelt" / "artlist_climate_250_2026-07-22.json").read_bytes()


@pytest.fixture
def assets(db):  # type: ignore[no-untyped-def]
    from markets.models import Asset

    rows = [
        ("bitcoin", "BTC", "Bitcoin", 1),
        ("ethereum", "ETH", "Ethereum", 2),
        ("ripple", "XRP", "XRP", 4),
        ("solana", "SOL", "Solana", 5),
        ("chainlink", "LINK", "Chainlink", 12),
        ("harmony", "ONE", "Harmony", 150),
        ("bitcoin-cash", "BCH", "Bitcoin Cash", 20),
        ("tether", "USDT", "Tether", 3),
    ]
    return [Asset.objects.create(id=i, symbol=s, name=n, rank=r) for i, s, n, r in rows]


@pytest.fixture
def published(monkeypatch):  # type: ignore[no-untyped-def]
    """Calls of streaming.services.publish, recorded."""
    calls: list[dict] = []
    monkeypatch.setattr("streaming.services.publish", lambda **kw: calls.append(kw))
    return calls
