"""Celery entry points of ``fx``."""

from __future__ import annotations

from celery import shared_task

from core.http import ProviderError

from . import services


@shared_task(
    name="fx.sync_rates",
    bind=True,
    acks_late=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def sync_rates(self) -> int:  # type: ignore[no-untyped-def]
    try:
        return services.rates_sync()
    except ProviderError as exc:
        raise self.retry(exc=exc, countdown=min(60 * 2**self.request.retries, 3600)) from exc
