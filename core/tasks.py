"""Celery entry points of core: the health sampler and the cache refresh.

Both run under ``core.services.job_run`` like every other job: one lock per job (a run that
finds it held is skipped and recorded, never queued), a ``JobRun`` row per run that
``etl/jobs`` and the admin show, errors recorded and re-raised for the retry policy.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from .services import cache_refresh, health_samples_record, job_run
from .taskpolicy import retrying


@shared_task(
    name="core.record_health", bind=True, acks_late=True, time_limit=50, soft_time_limit=45
)
def record_health(self: Any) -> dict[str, Any]:
    """Every minute (beat): one sample per component; runs never overlap."""
    return job_run(
        job="core.record_health",
        fn=health_samples_record,
        lock_ttl=55,
        task_id=self.request.id or "",
    )


@shared_task(
    name="core.refresh_caches",
    time_limit=300,
    soft_time_limit=280,
    **retrying(backoff=5, backoff_max=300, max_retries=3),
)
def refresh_caches(self: Any) -> dict[str, Any]:
    """Re-warm every cache-first read (``POST admin/cache/refresh``)."""
    return job_run(
        job="core.refresh_caches",
        fn=cache_refresh,
        lock_ttl=300,
        task_id=self.request.id or "",
    )
