"""ETL job runs: hold the job's lock, record a JobRun, and run one service call."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.locks import acquire
from markets.models import JobRun


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
        _finish(run, JobRun.Status.FAILED, {"error": f"{exc.__class__.__name__}: {exc}"[:1000]})
        raise
    finally:
        lease.release()
    detail = {"result": _jsonable(result), "seconds": round(time.perf_counter() - started, 3)}
    _finish(run, JobRun.Status.SUCCESS, detail)
    return {"job": job, "status": "success", **detail}


def job_runs_cleanup(*, older_than_days: int = 14) -> int:
    """JobRun rows are an operations log: keep two weeks."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = JobRun.objects.filter(started_at__lt=cutoff).delete()
    return deleted


def _finish(run: JobRun, status: str, detail: dict[str, Any]) -> None:
    with transaction.atomic():
        run.status = status
        run.finished_at = timezone.now()
        run.detail = detail
        run.save(update_fields=["status", "finished_at", "detail"])


# --- enqueueing (side effects after commit) ---------------------------------------------


def task_enqueue(
    *, task: str, kwargs: dict[str, Any] | None = None, queue: str | None = None
) -> str:
    """Send ``task`` to the broker once the surrounding transaction commits; returns its id.

    The id is chosen now so the caller can answer with it before the commit happens.
    """
    from celery import current_app

    task_id = uuid.uuid4().hex
    options: dict[str, Any] = {"task_id": task_id}
    if queue:
        options["queue"] = queue

    def send() -> None:
        current_app.send_task(task, kwargs=kwargs or {}, **options)

    transaction.on_commit(send)
    return task_id


@transaction.atomic
def sync_enqueue(*, top: int = 50, provider: str | None = None) -> str:
    return task_enqueue(task="markets.sync_quotes", kwargs={"top": top, "provider": provider})


@transaction.atomic
def periodic_job_run_now(*, job_id: int) -> str:
    """Enqueue a beat job right now with its stored kwargs (the schedule is untouched)."""
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.get(pk=job_id)
    return task_enqueue(task=job.task, kwargs=json.loads(job.kwargs or "{}"), queue=job.queue)


@transaction.atomic
def periodic_job_set_enabled(*, job_id: int, enabled: bool) -> Any:
    from django_celery_beat.models import PeriodicTask

    job = PeriodicTask.objects.select_for_update().get(pk=job_id)
    if job.enabled != enabled:
        job.enabled = enabled
        job.save()  # save() also bumps beat's change marker, so beat reloads
    return job
