"""Candle writes: the bulk idempotent upsert, and the deep backfill from Binance klines."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import transaction

from markets.contracts import CandleData
from markets.models import Asset, Candle, Interval
from markets.selectors import INTERVAL_SECONDS

UNIQUE_FIELDS = ["asset", "interval", "open_time"]
UPDATE_FIELDS = ["open", "high", "low", "close", "volume", "source"]


class InvalidCandle(ValueError):
    """A candle breaks an OHLCV invariant; the whole batch is refused."""


def candle_problems(c: CandleData) -> list[str]:
    """Every reason this candle is impossible (empty list = valid). Mirrors the DB constraints."""
    values = {"open": c.open, "high": c.high, "low": c.low, "close": c.close, "volume": c.volume}
    problems = [f"{k} is not a finite number" for k, v in values.items() if not _finite(v)]
    if problems:
        return problems
    problems += [f"{k} is negative ({v})" for k, v in values.items() if v < 0]
    if c.high < c.low:
        problems.append(f"high {c.high} < low {c.low}")
    if c.high < max(c.open, c.close):
        problems.append(f"high {c.high} < max(open, close) {max(c.open, c.close)}")
    if c.low > min(c.open, c.close):
        problems.append(f"low {c.low} > min(open, close) {min(c.open, c.close)}")
    return problems


def _finite(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _aligned(open_time: datetime, interval: str) -> bool:
    return int(open_time.timestamp()) % INTERVAL_SECONDS[interval] == 0


@transaction.atomic
def candles_upsert(
    *,
    asset: Asset,
    interval: str,
    candles: Iterable[CandleData],
    batch_size: int | None = None,
) -> int:
    """Insert or update candles of one asset/interval; returns the number of rows written.

    Idempotent: re-running with the same candles leaves the same rows. One transaction, with
    ``INSERT ... ON CONFLICT (asset, interval, open_time) DO UPDATE`` in batches — never a
    commit per row. Invalid candles raise ``InvalidCandle`` before anything is written.
    """
    return candles_upsert_many(items=[(asset, interval, candles)], batch_size=batch_size)


@transaction.atomic
def candles_upsert_many(
    *,
    items: Iterable[tuple[Asset, str, Iterable[CandleData]]],
    batch_size: int | None = None,
) -> int:
    """Like ``candles_upsert`` for several (asset, interval, candles) groups in ONE transaction."""
    items = list(items)
    for _, interval, _ in items:
        if interval not in Interval.values:
            raise InvalidCandle(f"unknown interval {interval!r}")
    batch_size = batch_size or settings.MARKETS_UPSERT_BATCH_SIZE
    rows: list[Candle] = []
    for asset, interval, group in items:
        seen: dict[datetime, int] = {}
        for c in group:
            problems = candle_problems(c)
            if problems:
                raise InvalidCandle(
                    f"{asset.pk} {interval} {c.open_time.isoformat()}: {'; '.join(problems)}"
                )
            if not _aligned(c.open_time, interval):
                raise InvalidCandle(f"{asset.pk} {interval} {c.open_time.isoformat()}: not aligned")
            row = Candle(
                asset=asset,
                interval=interval,
                open_time=c.open_time,
                open=float(c.open),
                high=float(c.high),
                low=float(c.low),
                close=float(c.close),
                volume=float(c.volume),
                source=c.source[:32],
            )
            if c.open_time in seen:  # one statement may not touch a row twice: last one wins
                rows[seen[c.open_time]] = row
            else:
                seen[c.open_time] = len(rows)
                rows.append(row)
    for start in range(0, len(rows), batch_size):
        Candle.objects.bulk_create(
            rows[start : start + batch_size],
            update_conflicts=True,
            unique_fields=UNIQUE_FIELDS,
            update_fields=UPDATE_FIELDS,
        )
    return len(rows)


# --- deep backfill ----------------------------------------------------------------------


@dataclass(frozen=True)
class BackfillResult:
    asset_id: str
    interval: str
    since: datetime
    until: datetime
    pages: int
    written: int
    first: datetime | None
    last: datetime | None


def candles_backfill(
    *,
    asset: Asset,
    interval: str,
    since: datetime,
    until: datetime | None = None,
    window: int = 1000,
    max_pages: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> BackfillResult:
    """Fetch Binance klines from ``since`` to ``until`` (default: now) in windows of ``window``
    candles and upsert each window.

    Each window is written in its own transaction (an interrupted backfill keeps what it
    fetched; re-running it is idempotent). The fetch is ``markets.providers.fetch_klines``
    (retries, breaker and the shared rate budget live there).
    """
    from markets import providers

    if interval not in Interval.values:
        raise InvalidCandle(f"unknown interval {interval!r}")
    if not asset.binance_symbol:
        raise InvalidCandle(f"{asset.pk} has no Binance pair")
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    since = since.astimezone(UTC) if since.tzinfo else since.replace(tzinfo=UTC)
    # Align to the first candle open at or after ``since``.
    rem = int(since.timestamp()) % int(step.total_seconds())
    if rem:
        since = since + timedelta(seconds=int(step.total_seconds()) - rem)
    until = until or datetime.now(UTC)
    cursor = since
    pages = written = 0
    first = last = None
    while cursor <= until and pages < max_pages:
        window_end = min(cursor + step * (window - 1), until)
        page = providers.fetch_klines(
            binance_symbol=asset.binance_symbol, interval=interval, start=cursor, end=window_end
        )
        pages += 1
        page = [c for c in page if cursor <= c.open_time <= window_end]
        if page:
            n = candles_upsert(asset=asset, interval=interval, candles=page)
            written += n
            if progress:
                progress(n)
            page_first = min(c.open_time for c in page)
            page_last = max(c.open_time for c in page)
            first = page_first if first is None else min(first, page_first)
            last = page_last if last is None else max(last, page_last)
        cursor = window_end + step
    return BackfillResult(asset.pk, interval, since, until, pages, written, first, last)
