"""Fixtures of the alerts tests: coins with quotes stored through markets' own service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from markets.contracts import AssetData, QuoteBatch, QuoteData

COINS = {
    "bitcoin": AssetData(slug="bitcoin", symbol="BTC", name="Bitcoin", rank=1),
    "ethereum": AssetData(slug="ethereum", symbol="ETH", name="Ethereum", rank=2),
    "solana": AssetData(slug="solana", symbol="SOL", name="Solana", rank=5),
}


def store_prices(prices: dict[str, float], *, at: datetime | None = None, **kw) -> None:
    """One quote batch (hand-made values) through ``markets.services.quotes_store``."""
    from markets.services import quotes_store

    at = at or datetime.now(UTC)
    quotes = tuple(
        QuoteData(asset=COINS[c], price=p, source="replay", as_of=at, fetched_at=at, **kw)
        for c, p in prices.items()
    )
    quotes_store(batch=QuoteBatch(quotes=quotes, source="replay"))


@pytest.fixture
def coins(db):
    from markets.services import assets_upsert

    return assets_upsert(assets=list(COINS.values())).assets


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user(
        email="mallory@example.com", password="correct-horse-battery-9"
    )


@pytest.fixture(autouse=True)
def enqueued(task_stub):
    """Tasks are called directly in tests: record what would have been enqueued."""
    sent: list[tuple[str, dict]] = []
    for name in ("evaluate_assets", "deliver"):
        task_stub(
            f"alerts.{name}", lambda *a, _n=name, **kw: sent.append((_n, kw.get("kwargs", {})))
        )
    return sent


@pytest.fixture
def published(monkeypatch):
    calls: list[dict] = []
    import streaming.services

    monkeypatch.setattr(streaming.services, "publish", lambda **kw: calls.append(kw))
    return calls
