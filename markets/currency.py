"""Any quote currency: ONE conversion, applied at read time on top of the USD figures.

Everything is stored in USD. ``rate(vs, at=...)`` says how many units of ``vs`` one USD buys
(fiat from the daily ``fx`` time series, crypto from our own prices: ``btc``, ``eth`` and any
stored asset's symbol) together with that rate's provenance; ``convert_quote()`` turns a
``markets.payloads.quote_payload()`` datum into that currency and adds the rate's provenance
(``vs``, ``rate``, ``rate_source``, ``rate_as_of``; ``stale`` when either is stale).
Percentage changes are re-based with the quote currency's own change over the same window
(known for crypto; fiat reference rates are daily, so their intraday change counts as 0).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from fx import selectors as fx_selectors

from . import selectors
from .models import Asset, Interval

USD = "usd"
AMOUNTS = ("price", "market_cap", "volume_24h", "high_24h", "low_24h")
CHANGES = ("change_1h", "change_24h", "change_7d", "change_30d")
FIAT_STALE_AFTER = timedelta(days=5)  # ECB publishes on working days only


class UnknownCurrency(ValueError):
    """``vs`` is not a currency we can convert to; ``supported`` lists those we can."""

    def __init__(self, vs: str, supported: list[str]) -> None:
        super().__init__(f"Unsupported currency {vs!r}.")
        self.vs = vs
        self.supported = supported


@dataclass(frozen=True, slots=True)
class Rate:
    vs: str
    per_usd: float  # units of ``vs`` per 1 USD
    source: str
    as_of: datetime | None
    stale: bool = False
    # The quote currency's own % change against USD per window (change_24h: ...).
    changes: Mapping[str, float | None] = field(default_factory=dict)


IDENTITY = Rate(vs=USD, per_usd=1.0, source="identity", as_of=None)


def _crypto_assets() -> dict[str, Asset]:
    """{symbol (lower): asset} of the stored assets with a price (rank wins a collision)."""
    rows = selectors.asset_list().filter(latest_quote__isnull=False)
    out: dict[str, Asset] = {}
    for asset in rows:  # ordered by rank: the first of a symbol is the best-ranked
        out.setdefault(asset.symbol.lower(), asset)
    return out


def supported_currencies() -> list[str]:
    """``usd``, every fiat currency with a stored rate, and the symbols of our priced coins."""
    return sorted({USD, *fx_selectors.supported_currencies(), *_crypto_assets()})


def normalise(vs: str | None) -> str:
    return (vs or USD).strip().lower()


def _day_start(day: Any) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def rate(vs: str, *, at: datetime | None = None) -> Rate:
    """The USD -> ``vs`` rate now (``at`` None) or on the day of ``at``; else UnknownCurrency."""
    vs = normalise(vs)
    if vs == USD:
        return IDENTITY
    now = timezone.now()
    fiat = fx_selectors.rate_on(currency=vs, day=at.date() if at else None)
    if fiat is not None:
        as_of = _day_start(fiat.day)
        return Rate(
            vs=vs,
            per_usd=fiat.rate,
            source=fiat.source,
            as_of=as_of,
            stale=(at or now) - as_of > FIAT_STALE_AFTER,
        )
    asset = _crypto_assets().get(vs)
    if asset is None or asset.latest_quote is None:
        raise UnknownCurrency(vs, supported_currencies())
    if at is None:
        q = asset.latest_quote
        return Rate(
            vs=vs,
            per_usd=1.0 / q.price,
            source=q.source,
            as_of=q.as_of,
            stale=selectors.quote_is_stale(q, now=now),
            changes={name: getattr(q, name) for name in CHANGES},
        )
    candle = (
        selectors.candles(asset=asset, interval=Interval.D1, end=at).order_by("-open_time").first()
    )
    if candle is None or candle.close <= 0:
        raise UnknownCurrency(vs, supported_currencies())
    return Rate(
        vs=vs, per_usd=1.0 / candle.close, source=candle.source or "candles", as_of=candle.open_time
    )


def rate_series(vs: str, *, start: datetime, end: datetime) -> Callable[[datetime], float]:
    """``f(t) -> units of vs per USD at t`` for a time series in ``[start, end]``."""
    vs = normalise(vs)
    if vs == USD:
        return lambda _t: 1.0
    fiat = fx_selectors.rates_between(currency=vs, start=start.date(), end=end.date())
    points: list[tuple[datetime, float]]
    if fiat:
        points = [(_day_start(r.day), r.rate) for r in fiat]
    else:
        asset = _crypto_assets().get(vs)
        if asset is None:
            raise UnknownCurrency(vs, supported_currencies())
        rows = selectors.candles(
            asset=asset, interval=Interval.D1, start=start - timedelta(days=1), end=end
        ).values_list("open_time", "close")
        points = [(t, 1.0 / c) for t, c in rows if c > 0]
        if not points:
            latest = rate(vs)
            points = [(start, latest.per_usd)]
    times = [t for t, _ in points]

    def at(t: datetime) -> float:
        i = bisect.bisect_right(times, t) - 1
        return points[max(i, 0)][1]

    return at


def _rebase(change: float | None, own: float | None) -> float | None:
    if change is None:
        return None
    if own is None or own <= -100:
        return change
    return ((1 + change / 100.0) / (1 + own / 100.0) - 1) * 100.0


def convert_quote(datum: Mapping[str, Any], rate: Rate) -> dict[str, Any]:
    """A ``quote_payload()`` datum in ``rate.vs``, with the rate's provenance added."""
    out = dict(datum)
    if rate.vs != USD:
        for name in AMOUNTS:
            if out.get(name) is not None:
                out[name] = out[name] * rate.per_usd
        for name in CHANGES:
            if name in out:
                out[name] = _rebase(out[name], rate.changes.get(name))
    out["vs"] = rate.vs
    out["rate"] = rate.per_usd
    out["rate_source"] = rate.source
    out["rate_as_of"] = (
        rate.as_of.astimezone(UTC).isoformat().replace("+00:00", "Z") if (rate.as_of) else None
    )
    out["stale"] = bool(out.get("stale") or rate.stale)
    return out
