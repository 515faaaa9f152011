"""Reads of ``fx``: the USD rate of a currency on a day (the latest published on or before it).

The current table of latest rates is cached for ``FX_CACHE_SECONDS`` (a day by default: the
source publishes once a day), so a conversion on a hot read costs a dict lookup.
"""

from __future__ import annotations

import contextlib
from datetime import date

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max

from .contracts import FiatRate
from .models import ExchangeRate

_LATEST_KEY = "fx:latest:v1"


def _row(r: ExchangeRate) -> FiatRate:
    return FiatRate(
        currency=r.currency, rate=r.rate, day=r.day, source=r.source, fetched_at=r.fetched_at
    )


def forget_cached() -> None:
    try:
        cache.delete(_LATEST_KEY)
    except Exception:  # Redis down: the TTL ends it
        return


def latest_rates() -> dict[str, FiatRate]:
    """{currency: newest rate} of every stored currency."""
    try:
        cached = cache.get(_LATEST_KEY)
    except Exception:
        cached = None
    if cached is not None:
        return dict(cached)
    newest = ExchangeRate.objects.values("currency").annotate(day=Max("day"))
    wanted = {(n["currency"], n["day"]) for n in newest}
    days = {d for _, d in wanted}
    rows = ExchangeRate.objects.filter(day__in=days)
    out = {r.currency: _row(r) for r in rows if (r.currency, r.day) in wanted}
    with contextlib.suppress(Exception):
        cache.set(_LATEST_KEY, out, settings.FX_CACHE_SECONDS)
    return out


def supported_currencies() -> list[str]:
    return sorted(latest_rates())


def rate_on(*, currency: str, day: date | None = None) -> FiatRate | None:
    """The rate of ``currency`` on ``day`` (the last published on or before it), or None."""
    if day is None:
        return latest_rates().get(currency)
    row = ExchangeRate.objects.filter(currency=currency, day__lte=day).order_by("-day").first()
    return _row(row) if row is not None else None


def rates_between(*, currency: str, start: date, end: date) -> list[FiatRate]:
    """Every stored rate of ``currency`` in ``[start, end]`` plus the one in force at ``start``."""
    rows = list(
        ExchangeRate.objects.filter(currency=currency, day__gte=start, day__lte=end).order_by("day")
    )
    first = rate_on(currency=currency, day=start)
    out = [_row(r) for r in rows]
    if first is not None and (not out or out[0].day != first.day):
        out.insert(0, first)
    return out
