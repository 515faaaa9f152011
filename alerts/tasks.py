"""Celery entry points of `alerts`: ids in, one service call.

``acks_late`` everywhere: a worker killed mid-task gets the message re-delivered, and every
service here is idempotent (events are unique per observation, outbox rows are claimed).
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import IntegrityError

from alerts import services
from core.locks import acquire
from core.taskpolicy import retrying

COMMON = retrying(backoff=2, backoff_max=60, max_retries=5, also=(IntegrityError,))


@shared_task(name="alerts.evaluate_assets", time_limit=120, soft_time_limit=100, **COMMON)
def evaluate_assets(self, asset_ids: list[str]) -> dict[str, Any]:
    """Evaluate the alerts on the coins a committed quote batch moved."""
    report = services.alerts_evaluate(asset_ids=asset_ids)
    return {"pairs": report.pairs, "transitions": report.transitions, "fired": report.fired}


@shared_task(name="alerts.sweep", time_limit=300, soft_time_limit=280, **COMMON)
def sweep(self) -> dict[str, Any]:
    """The safety net (every minute): every active alert — pending periods that elapsed, feeds
    gone stale (no data), expiry, batches whose on-commit enqueue was lost — then due deliveries."""
    lease = acquire("job:alerts.sweep", ttl=290)
    if lease is None:
        return {"status": "skipped", "reason": "another sweep holds the lock"}
    try:
        report = services.alerts_evaluate(asset_ids=None)
        due = services.deliveries_due()
        delivered = [services.delivery_send(delivery_id=i).status for i in due]
    finally:
        lease.release()
    return {
        "pairs": report.pairs,
        "transitions": report.transitions,
        "fired": report.fired,
        "expired": report.expired,
        "deliveries": len(delivered),
    }


@shared_task(name="alerts.deliver", time_limit=120, soft_time_limit=100, **COMMON)
def deliver(self, delivery_ids: list[int]) -> dict[str, str]:
    return {str(i): services.delivery_send(delivery_id=i).status for i in delivery_ids}


@shared_task(name="alerts.send_digests", time_limit=600, soft_time_limit=580, **COMMON)
def send_digests(self) -> dict[str, int]:
    return {"mails": services.digests_send()}


@shared_task(name="alerts.detect_anomalies", time_limit=900, soft_time_limit=880, **COMMON)
def detect_anomalies(self, lookback_days: int = 7) -> dict[str, Any]:
    lease = acquire("job:alerts.detect_anomalies", ttl=900)
    if lease is None:
        return {"status": "skipped", "reason": "another run holds the lock"}
    try:
        created = services.anomalies_detect(lookback_days=lookback_days)
    finally:
        lease.release()
    return {"created": created}
