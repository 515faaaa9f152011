"""Anomaly detection over the stored daily candles (a daily beat job); idempotent upsert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.engine.anomaly import detect
from alerts.models import Anomaly
from markets import selectors as market_selectors


@transaction.atomic
def anomalies_detect(
    *, asset_ids: Sequence[str] | None = None, lookback_days: int = 90, now: datetime | None = None
) -> int:
    """Flag the last ``lookback_days`` of each coin; rows already stored are kept. New rows."""
    now = now or timezone.now()
    window = settings.ALERTS_ANOMALY_WINDOW_DAYS
    start = now - timedelta(days=lookback_days + window + 2)
    assets = market_selectors.asset_list()
    if asset_ids is not None:
        assets = assets.filter(pk__in=list(asset_ids))
    rows: list[Anomaly] = []
    for asset in assets:
        candles = list(
            market_selectors.candles(asset=asset, interval="1d", start=start).values_list(
                "open_time", "close", "volume", "source"
            )
        )
        if len(candles) <= window + 1:
            continue
        flags = detect(
            [c[0] for c in candles],
            [c[1] for c in candles],
            [c[2] for c in candles],
            window=window,
            return_z=settings.ALERTS_ANOMALY_Z,
            volume_z=settings.ALERTS_ANOMALY_Z,
        )
        source = {c[0]: c[3] for c in candles}
        rows.extend(
            Anomaly(
                asset=asset,
                open_time=f.at,
                kind=f.kind,
                score=f.score,
                value=f.value,
                source=source.get(f.at, "")[:32],
                detected_at=now,
            )
            for f in flags
        )
    before = Anomaly.objects.count()
    Anomaly.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return Anomaly.objects.count() - before
