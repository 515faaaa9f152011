"""Query counts of the list endpoints not pinned next to their app's own tests.

Each endpoint is called with a few rows and then with three times as many: the number of
queries must be the same (no N+1) and equal the pinned figure (a change either way updates
the pin). The listing, news, alerts, watchlists, notifications, audit and forecasts lists are
pinned in their apps' tests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from markets.tests.data_helpers import asset_data, quote, store

pytestmark = pytest.mark.django_db

COINS = [
    ("bitcoin", "BTC"),
    ("ethereum", "ETH"),
    ("solana", "SOL"),
    ("ripple", "XRP"),
    ("cardano", "ADA"),
    ("dogecoin", "DOGE"),
    ("tron", "TRX"),
    ("polkadot", "DOT"),
    ("chainlink", "LINK"),
]


def _coins(first: int, last: int) -> None:
    store(
        *(
            quote(asset_data(slug, sym, rank + 1), 10.0 + rank, change_24h=float(rank))
            for rank, (slug, sym) in enumerate(COINS)
            if first <= rank < last
        )
    )


def _queries(client, path: str) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def _pinned(client, path: str, grow: Callable[[int], None], pinned: int) -> None:  # type: ignore[no-untyped-def]
    grow(1)
    small = _queries(client, path)
    grow(2)
    grow(3)
    large = _queries(client, path)
    assert large == small, f"{path}: {small} queries with few rows, {large} with 3x as many"
    assert large == pinned, f"{path}: {large} queries (pinned at {pinned})"


@pytest.mark.parametrize("kind", ["gainers", "losers", "volume", "market-cap"])
def test_top_lists(api_client, kind):  # type: ignore[no-untyped-def]
    def grow(step: int) -> None:
        _coins((step - 1) * 3, step * 3)
        from django.core.cache import cache

        cache.clear()

    _pinned(api_client, f"/api/v1/cryptocurrencies/top/{kind}?limit=20", grow, pinned=1)


def test_etl_jobs(api_client, staff_user):  # type: ignore[no-untyped-def]
    from core.models import JobRun

    api_client.force_authenticate(staff_user)

    def grow(step: int) -> None:
        now = timezone.now()
        JobRun.objects.bulk_create(
            JobRun(
                job=f"markets.job{step}.{i}",
                status="success",
                started_at=now - timedelta(minutes=i),
                finished_at=now,
            )
            for i in range(4)
        )

    _pinned(api_client, "/api/v1/etl/jobs", grow, pinned=1)


def test_api_keys(api_client, user, settings):  # type: ignore[no-untyped-def]
    from accounts.services import api_key_create

    settings.API_KEY_MAX_PER_USER = 50
    api_client.force_authenticate(user)

    def grow(step: int) -> None:
        for i in range(3):
            api_key_create(user=user, name=f"key {step}.{i}")

    _pinned(api_client, "/api/v1/auth/api-keys", grow, pinned=2)


def test_webhooks(api_client, user):  # type: ignore[no-untyped-def]
    from alerts.models import Webhook

    api_client.force_authenticate(user)

    def grow(step: int) -> None:
        for i in range(3):
            Webhook.objects.create(user=user, url=f"https://93.184.216.34/{step}/{i}")

    _pinned(api_client, "/api/v1/notifications/webhooks", grow, pinned=2)


def test_anomalies(api_client):  # type: ignore[no-untyped-def]
    from alerts.models import Anomaly
    from markets.models import Asset

    def grow(step: int) -> None:
        _coins((step - 1) * 3, step * 3)
        now = timezone.now()
        Anomaly.objects.bulk_create(
            Anomaly(
                asset=asset,
                open_time=now - timedelta(days=i),
                kind="return",
                score=5.0,
                value=12.0,
                source="test",
                detected_at=now,
            )
            for asset in Asset.objects.all()[(step - 1) * 3 : step * 3]
            for i in range(2)
        )

    _pinned(api_client, "/api/v1/anomalies", grow, pinned=2)


def test_news_sources(api_client):  # type: ignore[no-untyped-def]
    from news.models import Source

    def grow(step: int) -> None:
        for i in range(3):
            Source.objects.create(
                slug=f"feed-{step}-{i}",
                name=f"Feed {step}.{i}",
                kind=Source.Kind.RSS,
                url=f"https://example.com/{step}/{i}.xml",
            )

    _pinned(api_client, "/api/v1/news/sources", grow, pinned=4)
