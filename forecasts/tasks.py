"""Celery entry points of `forecasts`: one service call each, under the job's lock.

Every task: ``acks_late`` (a crashed worker's job is re-delivered; the services are
idempotent: forecasts already issued from the same last candle are skipped, actuals are
only filled once, retraining adds a version), hard/soft time limits, retries with
exponential backoff + jitter on transient errors only. A run that finds the lock taken is
skipped, never queued behind the other (periodic jobs never overlap).
"""

from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from core.locks import LockUnavailable, acquire
from forecasts import services

log = structlog.get_logger(__name__)
TRANSIENT = (LockUnavailable, OperationalError, ConnectionError, TimeoutError)
COMMON: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 30,
    "retry_backoff_max": 900,
    "retry_jitter": True,
    "max_retries": 4,
}


def _locked(name: str, *, ttl: float, fn: Any) -> dict[str, Any]:
    lease = acquire(f"job:forecasts.{name}", ttl=ttl)
    if lease is None:
        log.info("forecasts.job_skipped", job=name, reason="another run holds the lock")
        return {"job": name, "status": "skipped", "reason": "another run holds the lock"}
    try:
        return {"job": name, "status": "success", "result": fn()}
    finally:
        lease.release()


@shared_task(name="forecasts.generate", time_limit=1800, soft_time_limit=1700, **COMMON)
def generate_daily_forecasts(
    self, symbols: list[str] | None = None, models: list[str] | None = None, days: int | None = None
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        report = services.generate_forecasts(
            symbols=symbols or settings.FORECAST_DEFAULT_SYMBOLS,
            models=[*(models or services.default_models()), "auto"],
            days=days,
        )
        return {
            "created": report.created,
            "existing": report.existing,
            "fallbacks": report.fallbacks[:50],
            "skipped": report.skipped,
        }

    return _locked("generate", ttl=1900, fn=run)


@shared_task(
    name="forecasts.retrain", time_limit=6 * 3600, soft_time_limit=6 * 3600 - 300, **COMMON
)
def retrain_models(
    self, symbols: list[str] | None = None, models: list[str] | None = None
) -> dict[str, Any]:
    def run() -> dict[str, Any]:
        report = services.train_models(
            symbols=symbols or settings.FORECAST_DEFAULT_SYMBOLS,
            models=models or services.default_models(),
        )
        return {
            "trained": [
                {
                    "symbol": r.symbol,
                    "model": r.model,
                    "version": r.version,
                    "skill": r.skill_score,
                    "promoted": r.promoted,
                }
                for r in report.results
            ],
            "failures": report.failures,
        }

    return _locked("retrain", ttl=6 * 3600 + 300, fn=run)


@shared_task(name="forecasts.fill_actuals", time_limit=600, soft_time_limit=540, **COMMON)
def fill_forecast_actuals(self) -> dict[str, Any]:
    return _locked("fill_actuals", ttl=700, fn=lambda: {"filled": services.fill_actuals()})
