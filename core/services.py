"""Writes behind the operator endpoints (cache clear/invalidate/refresh, health samples) and the
one job-run mechanism every app's tasks use (``job_run``), with the beat rows' writes.

Apps above core register here from ``AppConfig.ready()`` (core never imports them):
``cache_warmer_register(name, fn)`` for ``POST admin/cache/refresh`` and
``cache_snapshot_register(name, fn)`` for ``GET cache/smart``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from . import cachekeys
from .cache import two_tier_caches
from .enqueue import task_send_on_commit
from .health import component_ok, component_probes, run_probe
from .locks import acquire
from .models import HealthSample, JobRun

logger = logging.getLogger("cryptocast.ops")

NAMESPACE_RE = re.compile(r"^[a-z0-9]{1,40}$")
KEY_RE = re.compile(r"^[A-Za-z0-9_.:,\-]{1,250}$")

_WARMERS: dict[str, Callable[[], Any]] = {}
_SNAPSHOTS: dict[str, Callable[[], dict[str, Any]]] = {}


def cache_warmer_register(name: str, fn: Callable[[], Any]) -> None:
    """``fn()`` rebuilds one cache-first read now (called by the refresh task)."""
    _WARMERS[name] = fn


def cache_snapshot_register(name: str, fn: Callable[[], dict[str, Any]]) -> None:
    """``fn()`` describes one cache-first snapshot: present, age_seconds, ttl, next_refresh."""
    _SNAPSHOTS[name] = fn


def cache_warmers() -> list[str]:
    return sorted(_WARMERS)


def cache_snapshots() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, fn in sorted(_SNAPSHOTS.items()):
        try:
            out[name] = fn()
        except Exception as exc:
            out[name] = {"present": False, "error": exc.__class__.__name__}
    return out


# --- cache --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CacheClearResult:
    namespace: str
    l2_deleted: int
    l1_dropped: int
    scan_truncated: bool


def cache_clear(*, namespace: str) -> CacheClearResult:
    """Delete our keys of ``namespace`` (or ``all``) from the shared cache and this process's
    L1. Never ``FLUSHDB``: the broker and the locks may live in the same Redis database."""
    if namespace != "all" and not NAMESPACE_RE.match(namespace):
        raise ValueError("namespace must be 'all' or lowercase letters and digits")
    keys = [
        k
        for k in cachekeys.iter_keys()
        if namespace == "all" or cachekeys.namespace_of(k) == namespace
    ]
    truncated = len(keys) >= cachekeys.SCAN_MAX_KEYS
    deleted = cachekeys.delete_keys(keys)
    dropped = 0
    for tt in two_tier_caches():
        for full in tt.l1_keys():
            if namespace == "all" or cachekeys.namespace_of(full) == namespace:
                dropped += int(tt.invalidate_l1(full))
    logger.info("cache cleared", extra={"namespace": namespace, "deleted": deleted})
    return CacheClearResult(namespace, deleted, dropped, truncated)


def cache_invalidate(*, key: str) -> dict[str, Any]:
    """Delete one logical key (as the app wrote it, e.g. ``markets:global:v1`` or
    ``live:prices:usd:top10``) from L2 and from this process's L1 tiers."""
    if not KEY_RE.match(key):
        raise ValueError("key may hold letters, digits and _ . : , - (at most 250)")
    existed = cache.has_key(key)
    cache.delete(key)
    l1 = sum(int(tt.invalidate_l1(key)) for tt in two_tier_caches())
    return {"key": key, "l2_deleted": bool(existed), "l1_dropped": l1}


def cache_refresh() -> dict[str, Any]:
    """Run every registered warmer (the body of the refresh task); a failure is reported."""
    results: dict[str, Any] = {}
    for name, fn in sorted(_WARMERS.items()):
        try:
            value = fn()
            results[name] = {"ok": True, "result": value if isinstance(value, int | str) else None}
        except Exception as exc:
            logger.warning("cache warmer %s failed: %s", name, exc.__class__.__name__)
            results[name] = {"ok": False, "error": exc.__class__.__name__}
    return results


def cache_refresh_enqueue() -> str:
    """Queue the refresh task (sent on commit); returns the task id."""
    return task_send_on_commit("core.refresh_caches")


# --- health samples -----------------------------------------------------------------------


@transaction.atomic
def health_samples_record() -> int:
    """Probe every cheap component once, store a sample each, and drop old samples."""
    now = timezone.now()
    rows = []
    for name, probe in component_probes().items():
        result = run_probe(probe)
        latency = result.get("latency_ms")
        rows.append(
            HealthSample(
                component=name[:64],
                at=now,
                ok=component_ok(result),
                latency_ms=float(latency) if isinstance(latency, int | float) else None,
                detail=_jsonable(result),
            )
        )
    HealthSample.objects.bulk_create(rows)
    cutoff = now - timedelta(hours=settings.HEALTH_SAMPLE_RETENTION_HOURS)
    HealthSample.objects.filter(at__lt=cutoff).delete()
    return len(rows)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, int | float | str | bool) or value is None:
        return value
    return str(value)


# --- job runs -------------------------------------------------------------------------------


def job_run(
    *, job: str, fn: Callable[[], Any], lock_ttl: float = 600.0, task_id: str = ""
) -> dict[str, Any]:
    """Run ``fn`` under the lock ``job:<job>``; a concurrent run is skipped, not queued.

    Returns a JSON-able summary (also stored on the JobRun). Errors are recorded and re-raised
    so the task's retry policy applies. ``LockUnavailable`` propagates (never run unlocked).
    """
    lease = acquire(f"job:{job}", ttl=lock_ttl)
    now = timezone.now()
    if lease is None:
        JobRun.objects.create(
            job=job,
            task_id=task_id,
            status=JobRun.Status.SKIPPED,
            started_at=now,
            finished_at=now,
            detail={"reason": "another run holds the lock"},
        )
        return {"job": job, "status": "skipped", "reason": "another run holds the lock"}
    run = JobRun.objects.create(job=job, task_id=task_id, started_at=now)
    started = time.perf_counter()
    try:
        result = fn()
    except Exception as exc:
        _job_run_finish(
            run, JobRun.Status.FAILED, {"error": f"{exc.__class__.__name__}: {exc}"[:1000]}
        )
        raise
    finally:
        lease.release()
    detail = {"result": _jsonable(result), "seconds": round(time.perf_counter() - started, 3)}
    _job_run_finish(run, JobRun.Status.SUCCESS, detail)
    return {"job": job, "status": "success", **detail}


def job_runs_cleanup(*, older_than_days: int = 14) -> int:
    """JobRun rows are an operations log: keep two weeks."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = JobRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted


def _job_run_finish(run: JobRun, status: str, detail: dict[str, Any]) -> None:
    with transaction.atomic():
        run.status = status
        run.finished_at = timezone.now()
        run.detail = detail
        run.save(update_fields=["status", "finished_at", "detail"])


# --- enqueueing and the beat rows (side effects after commit) -------------------------------


@transaction.atomic
def periodic_job_run_now(*, job_id: int) -> str:
    """Enqueue a beat job right now with its stored kwargs (the schedule is untouched)."""
    job = PeriodicTask.objects.get(pk=job_id)
    return task_send_on_commit(job.task, kwargs=json.loads(job.kwargs or "{}"), queue=job.queue)


@transaction.atomic
def periodic_job_set_enabled(*, job_id: int, enabled: bool) -> PeriodicTask:
    job = PeriodicTask.objects.select_for_update().get(pk=job_id)
    if job.enabled != enabled:
        job.enabled = enabled
        job.save()  # save() also bumps beat's change marker, so beat reloads
    return job
