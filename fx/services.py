"""Writes of ``fx``: store fetched daily rates (idempotent upsert per currency and day)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from . import client, selectors
from .contracts import DailyRates
from .models import ExchangeRate


@transaction.atomic
def rates_store(*, days: Sequence[DailyRates]) -> int:
    """Upsert every (currency, day) rate; re-storing the same day changes nothing else."""
    now = timezone.now()
    rows = [
        ExchangeRate(currency=code, day=d.day, rate=rate, source=d.source, fetched_at=now)
        for d in days
        for code, rate in d.rates
    ]
    ExchangeRate.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["currency", "day"],
        update_fields=["rate", "source", "fetched_at"],
    )
    transaction.on_commit(selectors.forget_cached)
    return len(rows)


def rates_sync(*, since: date | None = None) -> int:
    """Fetch the latest day (or every day since ``since``) and store it; ProviderError raises."""
    if since is None:
        latest = ExchangeRate.objects.order_by("-day").values_list("day", flat=True).first()
        # A gap of a few days (weekend, outage) is fetched as a range; else just the latest.
        if latest is not None and timezone.now().date() - latest > timedelta(days=1):
            since = latest + timedelta(days=1)
    days = client.fetch_rates(start=since)
    return rates_store(days=days)
