"""Celery entry points of `markets`: ids in, one service call under the job's lock.

Every task: ``acks_late`` (a worker crash re-delivers it; the services are idempotent), hard and
soft time limits, retries with exponential backoff + jitter on transient errors only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task

from core.http import ProviderError
from core.services import job_run, job_runs_cleanup
from core.taskpolicy import retrying
from markets import selectors, services

COMMON = retrying(backoff=5, backoff_max=300, max_retries=5, also=(ProviderError,))


@shared_task(name="markets.sync_quotes", time_limit=120, soft_time_limit=100, **COMMON)
def sync_quotes(self, top: int = 50, provider: str | None = None) -> dict[str, Any]:
    return job_run(
        job=f"markets.sync_quotes:top{top}",
        fn=lambda: services.markets_sync(top=top, provider=provider),
        lock_ttl=150,
        task_id=self.request.id or "",
    )


@shared_task(name="markets.sync_assets", time_limit=120, soft_time_limit=100, **COMMON)
def sync_assets(self, asset_ids: list[str]) -> dict[str, Any]:
    """Re-fetch the quotes of a few assets (the admin's "resync" action)."""
    return job_run(
        job="markets.sync_assets:" + ",".join(sorted(asset_ids))[:150],
        fn=lambda: services.markets_sync(ids=asset_ids),
        lock_ttl=150,
        task_id=self.request.id or "",
    )


@shared_task(name="markets.sync_candles", time_limit=1800, soft_time_limit=1700, **COMMON)
def sync_candles(self, interval: str = "1d", lookback: int = 3, top: int = 50) -> dict[str, Any]:
    """Refresh the last ``lookback`` candles of every active asset with a Binance pair."""

    def run() -> dict[str, Any]:
        return services.candles_sync_recent(interval=interval, lookback=lookback, top=top)

    return job_run(
        job=f"markets.sync_candles:{interval}", fn=run, lock_ttl=1900, task_id=self.request.id or ""
    )


@shared_task(name="markets.backfill_candles", time_limit=3600, soft_time_limit=3500, **COMMON)
def backfill_candles(
    self, asset_id: str, interval: str, since: str, until: str | None = None
) -> dict[str, Any]:
    def run() -> Any:
        asset = selectors.asset_get(asset_id)
        return services.candles_backfill(
            asset=asset,
            interval=interval,
            since=datetime.fromisoformat(since),
            until=datetime.fromisoformat(until) if until else None,
        )

    return job_run(
        job=f"markets.backfill_candles:{asset_id}:{interval}",
        fn=run,
        lock_ttl=3700,
        task_id=self.request.id or "",
    )


@shared_task(name="markets.cleanup_quotes", time_limit=900, soft_time_limit=800, **COMMON)
def cleanup_quotes(self, older_than_days: int | None = None) -> dict[str, Any]:
    return job_run(
        job="markets.cleanup_quotes",
        fn=lambda: {
            "deleted": services.quotes_cleanup(older_than_days=older_than_days),
            "job_runs_deleted": job_runs_cleanup(),
        },
        lock_ttl=1000,
        task_id=self.request.id or "",
    )


@shared_task(name="markets.refresh_market_overview", time_limit=120, soft_time_limit=100, **COMMON)
def refresh_market_overview(self) -> dict[str, Any]:
    """``/global`` and trending from the provider into the cache (reads never wait on it)."""
    return job_run(
        job="markets.refresh_market_overview",
        fn=services.market_overview_refresh,
        lock_ttl=150,
        task_id=self.request.id or "",
    )
