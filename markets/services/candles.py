"""Candle writes: the bulk idempotent upsert, and the deep backfill from Binance klines."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from core.http import ProviderError
from markets import providers
from markets.clients import replay
from markets.contracts import CandleData
from markets.history_cache import HISTORY
from markets.models import Asset, Candle, Interval
from markets.payloads import candle_payload
from markets.selectors import INTERVAL_SECONDS, asset_list
from streaming import services as stream

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
    """Like ``candles_upsert`` for several (asset, interval, candles) groups in ONE transaction.

    Two engines, same result: ``bulk_create(update_conflicts=True)`` in batches (portable, used
    on SQLite and for small loads), and on PostgreSQL for loads of at least
    ``MARKETS_UPSERT_COPY_MIN_ROWS`` rows, ``COPY`` into a temporary staging table followed by
    one ``INSERT ... SELECT ... ON CONFLICT DO UPDATE`` (3-5x faster: no per-row ORM objects or
    client-side parameter quoting; see bench/candle_upsert.py).
    """
    items = list(items)
    for _, interval, _ in items:
        if interval not in Interval.values:
            raise InvalidCandle(f"unknown interval {interval!r}")
    rows: dict[tuple[str, str, datetime], tuple] = {}
    for asset, interval, group in items:
        step = INTERVAL_SECONDS[interval]
        asset_id = asset.pk
        for c in group:
            o, h, lo, cl, v = c.open, c.high, c.low, c.close, c.volume
            # Fast path for the common valid candle; NaN fails every comparison and lands in
            # the detailed check below.
            if not (
                0 <= lo <= o <= h and lo <= cl <= h and v >= 0 and h < math.inf and v < math.inf
            ):
                problems = candle_problems(c) or ["invalid candle"]
                raise InvalidCandle(
                    f"{asset.pk} {interval} {c.open_time.isoformat()}: {'; '.join(problems)}"
                )
            if int(c.open_time.timestamp()) % step:
                raise InvalidCandle(f"{asset.pk} {interval} {c.open_time.isoformat()}: not aligned")
            # One statement may not touch a row twice: the last candle for a time wins.
            rows[(asset_id, interval, c.open_time)] = (
                asset_id,
                interval,
                c.open_time,
                float(o),
                float(h),
                float(lo),
                float(cl),
                float(v),
                c.source[:32],
            )
    values = list(rows.values())
    copy_min = settings.MARKETS_UPSERT_COPY_MIN_ROWS
    if connection.vendor == "postgresql" and copy_min and len(values) >= copy_min:
        _upsert_by_copy(values)
    else:
        _upsert_by_bulk_create(values, batch_size or settings.MARKETS_UPSERT_BATCH_SIZE)
    if values:
        transaction.on_commit(HISTORY.bump)  # cached history pages are out of date
    live = _live_candles(values)
    if live:
        transaction.on_commit(lambda: _publish_candles(live))
    return len(values)


STREAM_CANDLES_PER_SERIES = 3


def _live_candles(values: list[tuple]) -> dict[tuple[str, str], list[dict]]:
    """The newest few candles of each series that are recent (a history import streams nothing)."""
    now = datetime.now(UTC)
    by_series: dict[tuple[str, str], list[tuple]] = {}
    for row in values:
        asset_id, interval, open_time = row[0], row[1], row[2]
        if open_time >= now - timedelta(seconds=3 * INTERVAL_SECONDS[interval]):
            by_series.setdefault((asset_id, interval), []).append(row)
    out = {}
    for key, group in by_series.items():
        group.sort(key=lambda r: r[2])
        out[key] = [
            candle_payload(Candle(**dict(zip(_COLUMNS, row, strict=True))))
            for row in group[-STREAM_CANDLES_PER_SERIES:]
        ]
    return out


def _publish_candles(live: dict[tuple[str, str], list[dict]]) -> None:
    for (asset_id, interval), items in live.items():
        stream.publish(channel=f"candles:{asset_id}:{interval}", items=items, key="time")


_COLUMNS = ("asset_id", "interval", "open_time", "open", "high", "low", "close", "volume", "source")


def _upsert_by_bulk_create(values: list[tuple], batch_size: int) -> None:
    if connection.vendor == "postgresql":  # same per-series lock as the COPY path
        with connection.cursor() as cursor:
            for key in sorted({(r[0], r[1]) for r in values}):
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"candles:{key[0]}:{key[1]}"]
                )
    objs = [Candle(**dict(zip(_COLUMNS, row, strict=True))) for row in values]
    for start in range(0, len(objs), batch_size):
        Candle.objects.bulk_create(
            objs[start : start + batch_size],
            update_conflicts=True,
            unique_fields=UNIQUE_FIELDS,
            update_fields=UPDATE_FIELDS,
        )


def _upsert_by_copy(values: list[tuple]) -> None:
    """PostgreSQL bulk path. Each (asset, interval) series is serialised by a transaction-scoped
    advisory lock; a series whose time range holds no stored candle yet is COPYed straight into
    the table (nothing can conflict), the others go through a staging table and
    ``INSERT ... ON CONFLICT DO UPDATE``."""
    table = Candle._meta.db_table
    cols = ", ".join(_COLUMNS)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in UPDATE_FIELDS)
    changed_old = ", ".join(f"{table}.{c}" for c in UPDATE_FIELDS)
    changed_new = ", ".join(f"EXCLUDED.{c}" for c in UPDATE_FIELDS)
    series: dict[tuple[str, str], list[tuple]] = {}
    for row in values:
        series.setdefault((row[0], row[1]), []).append(row)
    direct: list[tuple] = []
    staged: list[tuple] = []
    with connection.cursor() as cursor:
        for asset_id, interval in sorted(series):  # fixed order: no lock-order deadlocks
            rows = series[(asset_id, interval)]
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"candles:{asset_id}:{interval}"]
            )
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE asset_id = %s AND interval = %s "  # noqa: S608
                "AND open_time BETWEEN %s AND %s)",
                [asset_id, interval, min(r[2] for r in rows), max(r[2] for r in rows)],
            )
            (direct if not cursor.fetchone()[0] else staged).extend(rows)
        if direct:
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in direct:
                    copy.write_row(row)
        if staged:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS markets_candle_stage ("
                " asset_id varchar(100), interval varchar(3), open_time timestamptz,"
                " open double precision, high double precision, low double precision,"
                " close double precision, volume double precision, source varchar(32)"
                ") ON COMMIT DROP"
            )
            cursor.execute("TRUNCATE markets_candle_stage")
            with cursor.cursor.copy(f"COPY markets_candle_stage ({cols}) FROM STDIN") as copy:
                for row in staged:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {table} ({cols}) SELECT {cols} FROM markets_candle_stage "  # noqa: S608
                f"ON CONFLICT (asset_id, interval, open_time) DO UPDATE SET {updates} "
                # An identical re-run writes nothing (no dead tuples, no WAL).
                f"WHERE ({changed_old}) IS DISTINCT FROM ({changed_new})"
            )
            cursor.execute("TRUNCATE markets_candle_stage")


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


REPLAY_FILL_MAX = 5000
REPLAY_FILL_FRESH = {"1d": timedelta(days=365), "1h": timedelta(days=30)}


def candles_sync_recent(*, interval: str, lookback: int, top: int) -> dict[str, Any]:
    """Refresh the last ``lookback`` candles of the top ``top`` active assets with a Binance
    pair. One bad pair never starves the others; offline (``replay`` among the providers) a
    failed pair continues its series from the replayed market. Raises the last provider error
    only when nothing was written (so the task's retry policy applies)."""
    since = datetime.now(UTC) - timedelta(seconds=INTERVAL_SECONDS[interval]) * lookback
    written: dict[str, int] = {}
    failed: dict[str, str] = {}
    last_error: ProviderError | None = None
    for asset in asset_list().exclude(binance_symbol="")[:top]:
        try:
            result = candles_backfill(asset=asset, interval=interval, since=since)
        except ProviderError as exc:
            if "replay" in settings.MARKET_QUOTE_PROVIDERS:
                filled = candles_replay_fill(asset=asset, interval=interval)
                if filled:
                    written[asset.pk] = filled
                    failed[asset.pk] = f"{exc.reason}; filled {filled} from replay"
                    continue
            failed[asset.pk] = exc.reason
            last_error = exc
            continue
        written[asset.pk] = result.written
    if last_error is not None and not written:
        raise last_error
    return {"interval": interval, "written": written, "failed": failed}


def candles_replay_fill(*, asset: Asset, interval: str, until: datetime | None = None) -> int:
    """Offline: fill an asset's candles from its newest stored one up to now with candles cut
    from the replayed path (``source="replay"``), so a chart reaches the present and agrees
    with the replayed quotes. At most ``REPLAY_FILL_MAX`` candles; returns how many were
    written (0 when the coin has no recorded series for this interval)."""
    symbol = asset.cryptocompare_symbol or asset.symbol
    recorded = replay.series(symbol, interval if interval == "1h" else None)
    if recorded is None or (interval == "1h" and recorded.step != 3600):
        return 0
    step = timedelta(seconds=INTERVAL_SECONDS[interval])
    until = until or datetime.now(UTC)
    newest = (
        Candle.objects.filter(asset=asset, interval=interval)
        .order_by("-open_time")
        .values_list("open_time", flat=True)
        .first()
    )
    start = newest + step if newest else until - REPLAY_FILL_FRESH.get(interval, step * 500)
    start = max(start, until - step * REPLAY_FILL_MAX)
    if start > until:
        return 0
    rows = providers.fetch_replay_candles(
        symbol=symbol, asset_id=asset.pk, interval=interval, start=start, end=until
    )
    return candles_upsert(asset=asset, interval=interval, candles=rows) if rows else 0
