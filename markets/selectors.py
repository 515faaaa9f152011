"""Reads of `markets` (other apps import these, never the models' internals)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, Max, Q, QuerySet
from django.utils import timezone

from core import selectors as core_selectors

from . import currency
from .contracts import Rate
from .models import Asset, Candle, Interval, Quote
from .payloads import quote_is_stale as quote_is_stale  # re-exported: the freshness rule
from .payloads import quote_payload, stale_after

if TYPE_CHECKING:
    import pandas as pd

INTERVAL_SECONDS: dict[str, int] = {"1m": 60, "5m": 300, "1h": 3600, "4h": 14400, "1d": 86400}
OHLCV_COLUMNS = ["open", "high", "low", "close", "volume"]


class AssetNotFound(LookupError):
    """No asset matches; raised instead of guessing."""


# --- assets -----------------------------------------------------------------------------


def asset_get(id_or_symbol: str) -> Asset:
    """Resolve a canonical id (``bitcoin``) or a symbol (``BTC``) to one Asset.

    Order: canonical id, then an explicit provider mapping (CoinGecko id, Binance pair), then the
    symbol — and when several assets share a symbol, the best (lowest) market-cap rank wins; an
    ambiguous symbol without any ranked candidate raises instead of silently picking one.
    """
    key = (id_or_symbol or "").strip()
    if not key:
        raise AssetNotFound("empty asset id")
    qs = Asset.objects.select_related("latest_quote")
    found = qs.filter(pk=key.lower()).first()
    if found is not None:
        return found
    found = qs.filter(Q(coingecko_id=key.lower()) | Q(binance_symbol=key.upper())).first()
    if found is not None:
        return found
    candidates = list(qs.filter(symbol__iexact=key).order_by("rank", "id")[:10])
    if not candidates:
        raise AssetNotFound(f"no asset {key!r}")
    if len(candidates) == 1:
        return candidates[0]
    ranked = [a for a in candidates if a.rank is not None]
    if not ranked:
        names = ", ".join(a.id for a in candidates)
        raise AssetNotFound(f"symbol {key!r} is ambiguous ({names}); use the asset id")
    return ranked[0]


def assets_known(ids: Sequence[str]) -> set[str]:
    """Which of these canonical ids are assets at all (quoted or not)."""
    return set(Asset.objects.filter(pk__in=list(ids)).values_list("pk", flat=True))


def asset_list(*, active_only: bool = True) -> QuerySet[Asset]:
    """Assets with their latest quote in one query (the listing's base queryset)."""
    qs = Asset.objects.select_related("latest_quote")
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by(F("rank").asc(nulls_last=True), "id")


# --- quotes -----------------------------------------------------------------------------


def latest_quote_payloads(
    *, ids: Sequence[str] | None = None, top: int | None = None
) -> list[dict[str, Any]]:
    """``latest_quotes`` in the one payload shape REST and the streams serve."""
    now = timezone.now()
    return [quote_payload(asset=q.asset, quote=q, now=now) for q in latest_quotes(ids=ids, top=top)]


def latest_quotes(*, ids: Sequence[str] | None = None, top: int | None = None) -> list[Quote]:
    """The newest quote of each asset (optionally restricted to ids, or the top N by rank)."""
    qs = Quote.objects.select_related("asset").filter(latest_for__isnull=False)
    if ids is not None:
        qs = qs.filter(asset_id__in=list(ids))
    qs = qs.order_by(F("asset__rank").asc(nulls_last=True), "asset_id")
    if top is not None:
        qs = qs[:top]
    return list(qs)


def top_movers(*, category: str, window: str = "24h", limit: int = 10) -> list[Asset]:
    """Assets ranked by gainers/losers (over ``window``), volume or market cap."""
    field_by_window = {"1h": "change_1h", "24h": "change_24h", "7d": "change_7d"}
    change = field_by_window[window]
    ordering = {
        "gainers": f"-latest_quote__{change}",
        "losers": f"latest_quote__{change}",
        "volume": "-latest_quote__volume_24h",
        "market-cap": "-latest_quote__market_cap",
    }[category]
    value_field = ordering.lstrip("-")
    return list(
        asset_list()
        .filter(**{f"{value_field}__isnull": False})
        .order_by(ordering, F("rank").asc(nulls_last=True), "id")[:limit]
    )


@dataclass(frozen=True)
class GlobalMarket:
    total_market_cap: float | None  # None when no stored quote has a market cap (never 0)
    total_volume_24h: float | None
    assets: int
    dominance: dict[str, float] = field(default_factory=dict)
    market_cap_change_24h: float | None = None
    as_of: datetime | None = None
    fetched_at: datetime | None = None
    sources: tuple[str, ...] = ()


def global_market_from_db() -> GlobalMarket:
    """Aggregate of the stored latest quotes (used when no provider answers /global)."""
    quotes = latest_quotes()
    caps = [(q.asset.symbol, q.market_cap) for q in quotes if q.market_cap]
    total_cap = float(sum(c for _, c in caps))
    volumes = [q.volume_24h for q in quotes if q.volume_24h is not None]
    dominance = {}
    if total_cap > 0:
        for sym, cap in sorted(caps, key=lambda x: -x[1])[:10]:
            dominance[sym.lower()] = round(100.0 * cap / total_cap, 4)
    prev_cap = 0.0
    for q in quotes:
        if q.market_cap and q.change_24h is not None and q.change_24h > -100:
            prev_cap += q.market_cap / (1 + q.change_24h / 100.0)
    change = (100.0 * (total_cap / prev_cap - 1)) if prev_cap > 0 else None
    return GlobalMarket(
        total_market_cap=total_cap if caps else None,
        total_volume_24h=float(sum(volumes)) if volumes else None,
        assets=len(quotes),
        dominance=dominance,
        market_cap_change_24h=change,
        as_of=min((q.as_of for q in quotes), default=None),
        fetched_at=max((q.fetched_at for q in quotes), default=None),
        sources=tuple(sorted({q.source for q in quotes})),
    )


# --- candles ----------------------------------------------------------------------------


def candles(
    *,
    asset: Asset,
    interval: str = Interval.D1,
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[Candle]:
    """Candles of one asset/interval in ``[start, end]`` (inclusive), ascending open_time."""
    qs = Candle.objects.filter(asset=asset, interval=interval)
    if start is not None:
        qs = qs.filter(open_time__gte=start)
    if end is not None:
        qs = qs.filter(open_time__lte=end)
    return qs.order_by("open_time")


def recent_candles(*, asset: Asset, interval: str, limit: int) -> list[Candle]:
    """The newest ``limit`` candles of a series, ascending (a chart's starting state)."""
    rows = list(
        Candle.objects.filter(asset=asset, interval=interval).order_by("-open_time")[:limit]
    )
    rows.reverse()
    return rows


def last_real_prices(
    *, asset_ids: Sequence[str] | None = None
) -> dict[str, tuple[datetime, float]]:
    """Per asset, the newest price NOT made by the replay provider and when it was true (the
    close of its newest stored candle, or its newest quote, whichever is later): where the
    offline replay continues from."""
    out: dict[str, tuple[datetime, float]] = {}

    def keep(asset_id: str, when: datetime, price: float) -> None:
        if asset_id not in out or when > out[asset_id][0]:
            out[asset_id] = (when, price)

    candles = Candle.objects.exclude(source="replay")
    quotes = Quote.objects.exclude(source="replay")
    if asset_ids is not None:
        candles = candles.filter(asset_id__in=list(asset_ids))
        quotes = quotes.filter(asset_id__in=list(asset_ids))
    for row in candles.values("asset_id", "interval").annotate(t=Max("open_time")):
        close = (
            Candle.objects.filter(
                asset_id=row["asset_id"], interval=row["interval"], open_time=row["t"]
            )
            .values_list("close", flat=True)
            .first()
        )
        if close is not None:
            step = timedelta(seconds=INTERVAL_SECONDS[row["interval"]])
            keep(row["asset_id"], row["t"] + step, float(close))
    for qrow in quotes.values("asset_id").annotate(t=Max("as_of")):
        price = (
            Quote.objects.filter(asset_id=qrow["asset_id"], as_of=qrow["t"])
            .exclude(source="replay")
            .values_list("price", flat=True)
            .first()
        )
        if price is not None:
            keep(qrow["asset_id"], qrow["t"], float(price))
    return out


def candle_frame(
    *,
    asset: Asset | str,
    interval: str = Interval.D1,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """OHLCV as a DataFrame indexed by ``open_time`` (tz-aware UTC), float64 columns
    ``open, high, low, close, volume``. Empty frame (same columns) when there is nothing."""
    import pandas as pd  # heavy: imported on first use, not at Django start-up

    if not isinstance(asset, Asset):
        asset = asset_get(asset)
    rows = list(
        candles(asset=asset, interval=interval, start=start, end=end).values_list(
            "open_time", *OHLCV_COLUMNS
        )
    )
    if not rows:
        empty = pd.DataFrame(columns=OHLCV_COLUMNS, dtype="float64")
        empty.index = pd.DatetimeIndex([], tz="UTC", name="open_time")
        return empty
    frame = pd.DataFrame.from_records(rows, columns=["open_time", *OHLCV_COLUMNS])
    frame["open_time"] = pd.to_datetime(frame["open_time"], utc=True)
    frame = frame.set_index("open_time").astype("float64")
    return frame


def sparkline_map(*, asset_ids: Sequence[str], days: int = 7) -> dict[str, list[float]]:
    """{asset_id: closes of the last ``days`` daily candles} in ONE query (for the listing)."""
    if not asset_ids:
        return {}
    latest = timezone.now() - timedelta(days=days)
    out: dict[str, list[float]] = {a: [] for a in asset_ids}
    qs = (
        Candle.objects.filter(
            asset_id__in=list(asset_ids), interval=Interval.D1, open_time__gte=latest
        )
        .order_by("asset_id", "open_time")
        .values_list("asset_id", "close")
    )
    for asset_id, close in qs:
        out[asset_id].append(close)
    return out


@dataclass(frozen=True)
class Gap:
    start: datetime  # first missing open_time
    end: datetime  # last missing open_time
    missing: int


@dataclass(frozen=True)
class Coverage:
    asset_id: str
    interval: str
    first: datetime | None
    last: datetime | None
    expected: int
    present: int
    missing: int
    coverage_pct: float
    gaps: tuple[Gap, ...] = ()
    gaps_truncated: bool = False


def candle_coverage(*, asset: Asset, interval: str = Interval.D1, max_gaps: int = 1000) -> Coverage:
    """Expected vs present candles between the first and last stored one, and the gap list.

    Gaps are reported, never filled. One query streaming only ``open_time`` values.
    """
    step = INTERVAL_SECONDS[interval]
    times = candles(asset=asset, interval=interval).values_list("open_time", flat=True)
    first = last = prev = None
    present = 0
    gaps: list[Gap] = []
    truncated = False
    for t in times.iterator(chunk_size=5000):
        present += 1
        if first is None:
            first = t
        if prev is not None:
            delta = int((t - prev).total_seconds())
            if delta > step:
                missing = delta // step - 1
                if missing > 0:
                    if len(gaps) < max_gaps:
                        gaps.append(
                            Gap(
                                start=prev + timedelta(seconds=step),
                                end=t - timedelta(seconds=step),
                                missing=missing,
                            )
                        )
                    else:
                        truncated = True
        prev = t
    last = prev
    expected = (
        0 if first is None or last is None else int((last - first).total_seconds()) // step + 1
    )
    missing_total = max(expected - present, 0)
    pct = round(100.0 * present / expected, 4) if expected else 0.0
    return Coverage(
        asset_id=asset.pk,
        interval=interval,
        first=first,
        last=last,
        expected=expected,
        present=present,
        missing=missing_total,
        coverage_pct=pct,
        gaps=tuple(gaps),
        gaps_truncated=truncated,
    )


def latest_candle_time(*, asset: Asset, interval: str) -> datetime | None:
    return (
        Candle.objects.filter(asset=asset, interval=interval)
        .order_by("-open_time")
        .values_list("open_time", flat=True)
        .first()
    )


# --- ETL status ---------------------------------------------------------------------------


def etl_status() -> dict[str, Any]:
    """Freshness of the stored quotes and candles, with the jobs' counts and latest runs."""
    now = timezone.now()
    jobs_total, jobs_enabled = core_selectors.periodic_task_counts()
    newest = Quote.objects.aggregate(m=Max("as_of"))["m"]
    latest_candles = dict(
        Candle.objects.values("interval").annotate(m=Max("open_time")).values_list("interval", "m")
    )
    return {
        "jobs_total": jobs_total,
        "jobs_enabled": jobs_enabled,
        "runs_24h": core_selectors.job_run_counts(since=now - timedelta(hours=24)),
        "last_runs": core_selectors.job_runs(limit=10),
        "newest_quote_as_of": newest,
        "quotes_stale": newest is None or (now - newest) > stale_after(),
        "latest_candles": latest_candles,
        "assets": Asset.objects.filter(is_active=True).count(),
    }


# --- quote currencies (for other apps: markets.currency is this app's own) -----------------
def currency_rate(vs: str) -> Rate:
    """The USD -> ``vs`` rate now (``contracts.Rate``); ``contracts.UnknownCurrency`` else."""
    return currency.rate(vs)


def supported_currencies() -> list[str]:
    return currency.supported_currencies()
