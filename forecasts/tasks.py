"""Celery entry points of `forecasts`: one service call each, under the job's lock.

Every task: ``acks_late`` (a crashed worker's job is re-delivered; the services are
idempotent: forecasts already issued from the same last candle are skipped, actuals are
only filled once, retraining adds a version), hard/soft time limits, retries with
exponential backoff + jitter on transient errors only. A run that finds the lock taken is
skipped, never queued behind the other (periodic jobs never overlap).

Retraining and the daily issuing are fanned out: the periodic task only starts a run (one
``train_task``/``issue_task`` message per coin x model type, see
``forecasts.services.fanout``), so more workers means a shorter run.
"""

from __future__ import annotations

import random
from typing import Any

import structlog
from celery import shared_task

from core.services import job_run
from core.taskpolicy import retrying
from forecasts import selectors, services

log = structlog.get_logger(__name__)
COMMON = retrying(backoff=30, backoff_max=900, max_retries=4)


def _locked(name: str, *, ttl: float, fn: Any, task: Any = None) -> dict[str, Any]:
    """``fn`` under the job's lock, recorded as a job run (``etl/jobs``, the admin) as the
    ETL jobs are: a run that finds the lock taken is skipped and says so."""
    task_id = getattr(getattr(task, "request", None), "id", None) or ""
    return job_run(job=f"forecasts.{name}", fn=fn, lock_ttl=ttl, task_id=task_id)


def _start_run(name: str, *, kind: str, start: Any, task: Any = None) -> dict[str, Any]:
    """Start a fanned-out run unless one of the same kind is still going (never two)."""

    def run() -> dict[str, Any]:
        active = selectors.run_active(kind=kind)
        if active is not None:
            services.reap_lost_tasks(kind=kind)
            active.refresh_from_db()
            if active.finished_at is None:
                return {"skipped": f"run {active.pk} is still going", "run": active.pk}
        created = start()
        return selectors.run_summary(run=created)

    return _locked(name, ttl=600, fn=run, task=task)


@shared_task(name="forecasts.generate", time_limit=900, soft_time_limit=840, **COMMON)
def generate_daily_forecasts(
    self, symbols: list[str] | None = None, models: list[str] | None = None, days: int | None = None
) -> dict[str, Any]:
    """Fan the daily issuing out: one ``forecasts.issue_task`` per tracked coin."""
    return _start_run(
        "generate",
        kind="issue",
        start=lambda: services.issuing_run_start(symbols=symbols, models=models, days=days),
        task=self,
    )


@shared_task(name="forecasts.retrain", time_limit=900, soft_time_limit=840, **COMMON)
def retrain_models(
    self, symbols: list[str] | None = None, models: list[str] | None = None
) -> dict[str, Any]:
    """Fan the retraining out: one ``forecasts.train_task`` per tracked coin x model type;
    the last one to finish starts the issuing run."""
    return _start_run(
        "retrain",
        kind="train",
        start=lambda: services.training_run_start(symbols=symbols, models=models),
        task=self,
    )


def _execute(task: Any, task_id: int) -> dict[str, Any]:
    try:
        row = services.execute_task(
            task_id=task_id, final_attempt=task.request.retries >= task.max_retries
        )
    except services.TaskBusy as exc:
        # another worker runs it, or died less than a lease ago: look again after the lease
        raise task.retry(countdown=exc.retry_in + random.uniform(0, 10), exc=exc) from exc
    return {"task": row.pk, "status": row.status, "detail": row.detail}


# Time limits below are the defaults; the fan-out sets FORECAST_*_TASK_SECONDS per message.
@shared_task(
    name="forecasts.train_task",
    time_limit=3600,
    soft_time_limit=3540,
    reject_on_worker_lost=True,
    **{**COMMON, "max_retries": 8},
)
def train_task(self, task_id: int) -> dict[str, Any]:
    """Train one (coin, model type) of a run: ``forecasts.services.execute_task``."""
    return _execute(self, task_id)


@shared_task(
    name="forecasts.issue_task",
    time_limit=600,
    soft_time_limit=540,
    reject_on_worker_lost=True,
    **{**COMMON, "max_retries": 8},
)
def issue_task(self, task_id: int) -> dict[str, Any]:
    """Issue every model's forecast (+auto) of one coin of a run."""
    return _execute(self, task_id)


@shared_task(name="forecasts.fill_actuals", time_limit=600, soft_time_limit=540, **COMMON)
def fill_forecast_actuals(self) -> dict[str, Any]:
    return _locked(
        "fill_actuals", ttl=700, fn=lambda: {"filled": services.fill_actuals()}, task=self
    )


# Sent to FORECAST_TRAINING_QUEUE by services.backtest_enqueue; an hour, the broker's
# visibility timeout (a longer backtest: manage.py backtest).
@shared_task(name="forecasts.backtest", time_limit=3600, soft_time_limit=3540, **COMMON)
def backtest(self, **options: Any) -> dict[str, Any]:
    """A walk-forward backtest and its report files (``manage.py backtest``'s options as
    keyword arguments); re-running rewrites the same files."""
    return services.backtest_run(request=services.backtest_request(**options)).as_dict()
