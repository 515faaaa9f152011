"""Load the recorded sample data (``$CRYPTOCAST_SAMPLE_DATA``) so the offline demo is alive."""

from __future__ import annotations

import bisect
import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.ohlcv import open_text
from markets.contracts import QuoteBatch, QuoteData
from markets.models import Candle, Interval, Quote

from .assets import KNOWN_ASSETS, assets_upsert
from .imports import FileReport, import_stream, symbol_from_name
from .quotes import quotes_store

SAMPLE_SOURCE = "binance-sample"
LAYOUT = (("ohlcv/daily", ".csv", Interval.D1), ("ohlcv/hourly", ".csv.gz", Interval.H1))
MARKETCAP_DIR = "marketcap/coingecko"
# A recorded supply older than this (before the quote) is not used: market cap stays null.
MARKETCAP_MAX_AGE = timedelta(days=400)


@dataclass
class SampleLoadResult:
    data_dir: str
    available: bool
    message: str = ""
    loaded: list[FileReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    quotes_seeded: int = 0

    @property
    def ok(self) -> bool:
        return all(r.accepted for r in self.loaded)


def sample_files(data_dir: Path) -> list[tuple[Path, str]]:
    files: list[tuple[Path, str]] = []
    for sub, suffix, interval in LAYOUT:
        folder = data_dir / sub
        if folder.is_dir():
            files += [(p, interval) for p in sorted(folder.glob(f"*{suffix}")) if p.is_file()]
    return files


def load_sample_data(
    *, data_dir: str | Path | None = None, on_file: Callable[[str], None] | None = None
) -> SampleLoadResult:
    """Register the 10 sample coins, import their daily (1d) and hourly (1h) candles and seed
    each coin's latest quote from its last daily candle (``source="binance-sample"``; such
    quotes are old, so the API marks them stale).

    Idempotent: an asset/interval that already has candles is skipped, so re-running is cheap
    and never duplicates. Absent data directory: nothing happens, with a clear message.
    """
    raw = data_dir if data_dir is not None else settings.CRYPTOCAST_SAMPLE_DATA
    path = Path(raw) if raw else None
    if path is None or not path.is_dir():
        return SampleLoadResult(
            data_dir=str(raw or ""),
            available=False,
            message=(
                "No sample data: CRYPTOCAST_SAMPLE_DATA is not set to a directory "
                f"({raw!r}); nothing loaded. The app still runs, with an empty database."
            ),
        )
    result = SampleLoadResult(data_dir=str(path), available=True)
    assets_upsert(assets=KNOWN_ASSETS.values())
    for file, interval in sample_files(path):
        symbol = symbol_from_name(file.name)
        if symbol not in KNOWN_ASSETS:
            result.skipped.append(f"{file.name}: not one of the sample coins")
            continue
        slug = KNOWN_ASSETS[symbol].slug
        if Candle.objects.filter(asset_id=slug, interval=interval).exists():
            result.skipped.append(f"{file.name}: {slug} {interval} already has candles")
            continue
        with open_text(file) as stream:
            report = import_stream(
                stream, name=file.name, interval=interval, symbol=symbol, source=SAMPLE_SOURCE
            )
        result.loaded.append(report)
        if on_file:
            on_file(file.name)
    result.quotes_seeded = seed_quotes_from_candles(data_dir=path)
    loaded = sum(r.written for r in result.loaded)
    result.message = (
        f"Loaded {loaded} candles from {len(result.loaded)} file(s) in {path}; "
        f"{len(result.skipped)} skipped; {result.quotes_seeded} latest quotes seeded."
    )
    return result


def recorded_supply(data_dir: Path) -> dict[str, list[tuple[date, float]]]:
    """Circulating supply per symbol and day from CoinGecko's recorded market caps
    (``marketcap/coingecko/<SYMBOL>.csv``: market_cap / price, in USD); empty or zero rows are
    skipped (unknown, not 0)."""
    out: dict[str, list[tuple[date, float]]] = {}
    folder = data_dir / MARKETCAP_DIR
    if not folder.is_dir():
        return out
    for file in sorted(folder.glob("*.csv")):
        rows: list[tuple[date, float]] = []
        with file.open(newline="") as fh:
            for row in csv.DictReader(fh):
                try:
                    price, cap = float(row["price"]), float(row["market_cap"])
                    day = date.fromisoformat(row["date"])
                except (KeyError, TypeError, ValueError):
                    continue
                if price > 0 and cap > 0:
                    rows.append((day, cap / price))
        rows.sort()
        if rows:
            out[file.stem.upper()] = rows
    return out


def market_cap_at(
    supply: list[tuple[date, float]] | None, *, when: datetime, price: float
) -> float | None:
    """Recorded supply of the latest snapshot up to ``when`` x ``price``; None if unknown."""
    if not supply:
        return None
    i = bisect.bisect_right(supply, (when.date(), float("inf"))) - 1
    if i < 0:
        return None
    day, units = supply[i]
    if when - datetime(day.year, day.month, day.day, tzinfo=UTC) > MARKETCAP_MAX_AGE:
        return None
    return units * price


@transaction.atomic
def seed_quotes_from_candles(*, data_dir: Path | None = None) -> int:
    """A quote per sample coin from its last two daily candles. The candle files have no
    market cap: it is CoinGecko's recorded circulating supply (``marketcap/``, at most
    ``MARKETCAP_MAX_AGE`` before the quote) times the close, else null. Stored through
    ``quotes_store`` so the same idempotency rules apply; a quote stored before market caps were
    loaded gets its market cap filled in."""
    now = timezone.now()
    supply = recorded_supply(data_dir) if data_dir is not None else {}
    quotes: list[QuoteData] = []
    for data in KNOWN_ASSETS.values():
        last = list(
            Candle.objects.filter(asset_id=data.slug, interval=Interval.D1).order_by("-open_time")[
                :31
            ]
        )
        if not last:
            continue
        c = last[0]

        def change(days: int, c=c, last=last) -> float | None:
            if len(last) > days and last[days].close:
                return 100.0 * (c.close / last[days].close - 1.0)
            return None

        quotes.append(
            QuoteData(
                asset=data,
                price=c.close,
                source=SAMPLE_SOURCE,
                as_of=c.open_time + timedelta(days=1),  # the close of the day
                fetched_at=now,
                volume_24h=c.volume * c.close,  # base volume -> quote currency
                market_cap=market_cap_at(
                    supply.get(data.symbol), when=c.open_time + timedelta(days=1), price=c.close
                ),
                change_24h=change(1),
                change_7d=change(7),
                change_30d=change(30),
                high_24h=c.high,
                low_24h=c.low,
            )
        )
    if not quotes:
        return 0
    stored = quotes_store(batch=QuoteBatch(quotes=tuple(quotes), source=SAMPLE_SOURCE)).stored
    for q in quotes:
        if q.market_cap is not None:
            Quote.objects.filter(
                asset_id=q.asset.slug, source=SAMPLE_SOURCE, as_of=q.as_of, market_cap__isnull=True
            ).update(market_cap=q.market_cap)
    return stored
