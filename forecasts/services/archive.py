"""The archive's only later write: fill ``actual``/``error`` once the target day has closed."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.db import transaction
from django.utils import timezone

from forecasts import response_cache
from forecasts.models import OUTCOME_FIELDS, Forecast, ImmutableForecastError
from markets import selectors as market_selectors

log = structlog.get_logger(__name__)


@transaction.atomic
def fill_actuals(*, now: datetime | None = None, batch: int = 5000) -> int:
    """Set ``actual`` (the target candle's close) and ``error`` (actual - point) on every
    issued forecast whose target candle has closed and is stored. Idempotent: rows that
    already have an actual are never touched again. Returns how many rows were filled."""
    now = now or timezone.now()
    # a daily candle opening at target_time closes one day later
    pending = (
        Forecast.objects.filter(actual__isnull=True, target_time__lte=now - timedelta(days=1))
        .order_by("target_time")
        .values_list("id", "asset_id", "target_time", "point")[:batch]
    )
    by_asset: dict[str, list[tuple[int, datetime, float]]] = {}
    for pk, asset_id, target, point in pending:
        by_asset.setdefault(asset_id, []).append((pk, target, point))
    filled = 0
    for asset_id, rows in by_asset.items():
        start = min(r[1] for r in rows)
        end = max(r[1] for r in rows)
        frame = market_selectors.candle_frame(asset=asset_id, interval="1d", start=start, end=end)
        closes = {ts.to_pydatetime(): float(c) for ts, c in frame["close"].items()}
        for pk, target, point in rows:
            actual = closes.get(target)
            if actual is None:
                continue
            filled += Forecast.objects.filter(pk=pk, actual__isnull=True).update(
                actual=actual, error=actual - point, actual_filled_at=now
            )
    if filled:
        transaction.on_commit(response_cache.bump_generation)
    log.info("forecasts.actuals_filled", rows=filled)
    return filled


def assert_mutable_fields_only(*, fields: set[str]) -> None:
    """Guard for callers that update forecasts: only the outcome fields may change."""
    extra = set(fields) - OUTCOME_FIELDS
    if extra:
        raise ImmutableForecastError(
            f"issued forecasts are immutable; refused fields: {sorted(extra)}"
        )
