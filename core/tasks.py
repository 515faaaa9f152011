"""Celery entry points of core: the health sampler and the cache refresh."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .locks import acquire
from .services import cache_refresh, health_samples_record
from .taskpolicy import retrying


@shared_task(name="core.record_health", acks_late=True, time_limit=50, soft_time_limit=45)
def record_health() -> int:
    """Every minute (beat): one sample per component; held by a lock so runs never overlap."""
    lease = acquire("job:core.record_health", ttl=55)
    if lease is None:
        return 0
    try:
        return health_samples_record()
    finally:
        lease.release()


@shared_task(
    name="core.refresh_caches",
    time_limit=300,
    soft_time_limit=280,
    **retrying(backoff=5, backoff_max=300, max_retries=3),
)
def refresh_caches(self: Any) -> dict[str, Any]:
    """Re-warm every cache-first read (``POST admin/cache/refresh``)."""
    lease = acquire("job:core.refresh_caches", ttl=300)
    if lease is None:
        return {"skipped": "another refresh is running"}
    try:
        return cache_refresh()
    finally:
        lease.release()
