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
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone

from fx import selectors as fx_selectors

from .contracts import Rate, UnknownCurrency
from .models import Asset, Candle, Interval
from .payloads import quote_is_stale

USD = "usd"
__all__ = ["Rate", "UnknownCurrency"]  # defined in contracts (other apps catch them)
AMOUNTS = ("price", "market_cap", "volume_24h", "high_24h", "low_24h")
RATE_FIELDS = ("vs", "rate", "rate_source", "rate_as_of")  # added by convert_quote
CHANGES = ("change_1h", "change_24h", "change_7d", "change_30d")
FIAT_STALE_AFTER = timedelta(days=5)  # ECB publishes on working days only


IDENTITY = Rate(vs=USD, per_usd=1.0, source="identity", as_of=None)


# Its own reads (``markets.selectors`` serves ``currency_rate`` from here, so not the reverse).
def _crypto_assets() -> dict[str, Asset]:
    """{symbol (lower): asset} of the stored assets with a price (rank wins a collision)."""
    rows = (
        Asset.objects.select_related("latest_quote")
        .filter(is_active=True, latest_quote__isnull=False)
        .order_by(F("rank").asc(nulls_last=True), "id")
    )
    out: dict[str, Asset] = {}
    for asset in rows:  # ordered by rank: the first of a symbol is the best-ranked
        out.setdefault(asset.symbol.lower(), asset)
    return out


def _daily_candles(
    asset: Asset, *, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Candle]:
    qs = Candle.objects.filter(asset=asset, interval=Interval.D1)
    if start is not None:
        qs = qs.filter(open_time__gte=start)
    if end is not None:
        qs = qs.filter(open_time__lte=end)
    return qs.order_by("open_time")


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
            stale=quote_is_stale(q, now=now),
            changes={name: getattr(q, name) for name in CHANGES},
        )
    candle = _daily_candles(asset, end=at).order_by("-open_time").first()
    if candle is None or candle.close <= 0:
        raise UnknownCurrency(vs, supported_currencies())
    return Rate(
        vs=vs, per_usd=1.0 / candle.close, source=candle.source or "candles", as_of=candle.open_time
    )


@dataclass(frozen=True, slots=True)
class RateSeries:
    """USD -> ``vs`` rates over a window: ``at(t)`` is ``(rate, rate's day or time)``."""

    vs: str
    source: str
    points: tuple[tuple[datetime, float], ...]

    def at(self, t: datetime) -> tuple[float, datetime | None]:
        if not self.points:
            return 1.0, None
        i = bisect.bisect_right([p for p, _ in self.points], t) - 1
        when, value = self.points[max(i, 0)]
        return value, when


def rate_series_points(vs: str, *, start: datetime, end: datetime) -> RateSeries:
    """The rates in force over ``[start, end]`` (fiat: one per published day; crypto: the
    daily close of the coin), each point's rate being the last on or before it."""
    vs = normalise(vs)
    if vs == USD:
        return RateSeries(vs=USD, source="identity", points=())
    fiat = fx_selectors.rates_between(currency=vs, start=start.date(), end=end.date())
    points: list[tuple[datetime, float]]
    if fiat:
        points = [(_day_start(r.day), r.rate) for r in fiat]
        source = ",".join(sorted({r.source for r in fiat}))
    else:
        asset = _crypto_assets().get(vs)
        if asset is None:
            raise UnknownCurrency(vs, supported_currencies())
        rows = _daily_candles(asset, start=start - timedelta(days=1), end=end).values_list(
            "open_time", "close", "source"
        )
        points = [(t, 1.0 / c) for t, c, _ in rows if c > 0]
        source = ",".join(sorted({src or "candles" for _, c, src in rows if c > 0}))
        if not points:
            latest = rate(vs)
            points = [(latest.as_of or start, latest.per_usd)]
            source = latest.source
    return RateSeries(vs=vs, source=source, points=tuple(points))


def rate_series(vs: str, *, start: datetime, end: datetime) -> Callable[[datetime], float]:
    """``f(t) -> units of vs per USD at t`` for a time series in ``[start, end]``."""
    vs = normalise(vs)
    if vs == USD:
        return lambda _t: 1.0
    series = rate_series_points(vs, start=start, end=end)
    return lambda t: series.at(t)[0]


CANDLE_PRICES = ("open", "high", "low", "close")


def convert_candles(
    points: list[dict[str, Any]], *, vs: str, time_key: str = "time"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Candle payloads (``candle_payload()`` shape, ``time`` ISO or datetime) in ``vs``, each
    at its own day's rate (``rate`` and ``rate_as_of`` added per point), and a summary of the
    rates used (``vs``, ``rate_source``, ``rate_days``: the first and last rate day).
    Volume stays in the coin's own units (it is not a USD amount)."""
    vs = normalise(vs)
    if vs == USD or not points:
        return points, {"vs": vs, "rate_source": "identity", "rate_days": None}

    times = [_when(p[time_key]) for p in points]
    series = rate_series_points(vs, start=min(times), end=max(times))
    out, used = _candles_at(points, times, series)
    days = {"first": _iso(min(used)), "last": _iso(max(used))} if used else None
    return out, {"vs": vs, "rate_source": series.source, "rate_days": days}


def _when(value: Any) -> datetime:
    return (
        value
        if isinstance(value, datetime)
        else datetime.fromisoformat(value.replace("Z", "+00:00"))
    )


def candles_in(points: list[dict[str, Any]], series: RateSeries) -> list[dict[str, Any]]:
    """Candle payloads converted with an already loaded ``series`` (pure: the streams load
    the series once per ``vs`` and convert every message with it)."""
    return _candles_at(points, [_when(p["time"]) for p in points], series)[0]


def _candles_at(
    points: list[dict[str, Any]], times: list[datetime], series: RateSeries
) -> tuple[list[dict[str, Any]], list[datetime]]:
    out = []
    used: list[datetime] = []
    for p, t in zip(points, times, strict=True):
        r, day = series.at(t)
        q = dict(p)
        for name in CANDLE_PRICES:
            if q.get(name) is not None:
                q[name] = q[name] * r
        q["rate"] = r
        q["rate_as_of"] = _iso(day)
        if day is not None:
            used.append(day)
        out.append(q)
    return out, used


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z") if dt else None


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
    out["rate_as_of"] = _iso(rate.as_of)
    out["stale"] = bool(out.get("stale") or rate.stale)
    return out
