"""Replay provider: recorded candles played as if live (time-warped), ``source="replay"``.

The replay clock maps real time onto recorded time::

    replay_time = START + ((now - ANCHOR) * SPEED)   (wrapping around the recorded span)

so the same real instant always gives the same quote (deterministic given a clock). Hourly
series (``ohlcv/hourly/<SYM>.csv.gz``) are used when present, daily ones otherwise
(``ohlcv/daily/<SYM>.csv``). Inside a candle the price moves linearly from open to close.
No network: it drives the offline demo, streaming tests and load tests.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings

from core.http import ProviderError
from markets.contracts import AssetData, CandleData, QuoteData

from .base import KNOWN_ASSETS, by_field

SOURCE = "replay"
_DAY = 86_400


@dataclass(frozen=True)
class Series:
    symbol: str
    step: int  # seconds per candle
    times: tuple[int, ...]  # open times, epoch seconds, ascending
    rows: tuple[tuple[float, float, float, float, float], ...]  # o, h, l, c, v

    @property
    def start(self) -> int:
        return self.times[0]

    @property
    def end(self) -> int:
        return self.times[-1] + self.step


_lock = threading.Lock()
_series_cache: dict[tuple[str, str], Series | None] = {}


def _root() -> Path | None:
    root = getattr(settings, "CRYPTOCAST_SAMPLE_DATA", "")
    if not root:
        return None
    path = Path(root) / "ohlcv"
    return path if path.is_dir() else None


def _parse_time(text: str) -> int:
    text = text.strip()
    if len(text) == 10:  # a date: the daily candle opens at 00:00 UTC
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _read(path: Path, step: int, symbol: str) -> Series:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
    else:
        raw = path.read_bytes()
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8")))
    times: list[int] = []
    rows: list[tuple[float, float, float, float, float]] = []
    for rec in reader:
        stamp = rec.get("timestamp") or rec.get("date") or ""
        times.append(_parse_time(stamp))
        rows.append(
            (
                float(rec["open"]),
                float(rec["high"]),
                float(rec["low"]),
                float(rec["close"]),
                float(rec["volume"]),
            )
        )
    return Series(symbol=symbol, step=step, times=tuple(times), rows=tuple(rows))


def series(symbol: str, interval: str | None = None) -> Series | None:
    """The recorded series of a symbol: hourly if recorded (or asked), else daily."""
    symbol = symbol.upper()
    root = _root()
    if root is None:
        return None
    choices = [
        ("1h", root / "hourly" / f"{symbol}.csv.gz", 3600),
        ("1d", root / "daily" / f"{symbol}.csv", _DAY),
    ]
    if interval is not None:
        choices = [c for c in choices if c[0] == interval]
    for name, path, step in choices:
        key = (str(path), name)
        with _lock:
            if key not in _series_cache:
                _series_cache[key] = _read(path, step, symbol) if path.is_file() else None
            found = _series_cache[key]
        if found is not None and found.times:
            return found
    return None


def available_symbols() -> list[str]:
    root = _root()
    if root is None:
        return []
    names = {p.name.split(".")[0].upper() for p in (root / "daily").glob("*.csv")}
    names |= {p.name.split(".")[0].upper() for p in (root / "hourly").glob("*.csv.gz")}
    return sorted(names)


def _setting_time(name: str) -> datetime:
    return datetime.fromisoformat(str(getattr(settings, name)).replace("Z", "+00:00")).astimezone(
        UTC
    )


def replay_time(s: Series, now: datetime) -> float:
    """Recorded instant (epoch seconds) that plays at real instant ``now``."""
    start = max(_setting_time("MARKET_REPLAY_START").timestamp(), s.start)
    if start >= s.end:
        start = s.start
    span = s.end - start
    elapsed = (
        now - _setting_time("MARKET_REPLAY_ANCHOR")
    ).total_seconds() * settings.MARKET_REPLAY_SPEED
    return start + (elapsed % span)


def _price_at(s: Series, t: float) -> float:
    i = max(bisect.bisect_right(s.times, t) - 1, 0)
    o, _h, _l, c, _v = s.rows[i]
    frac = min(max((t - s.times[i]) / s.step, 0.0), 1.0)
    return o + (c - o) * frac


def quote(asset: AssetData, *, now: datetime | None = None) -> QuoteData | None:
    s = series(asset.cryptocompare_symbol or asset.symbol)
    if s is None:
        return None
    now = now or datetime.now(UTC)
    t = replay_time(s, now)
    price = _price_at(s, t)
    day_ago = max(t - _DAY, s.start)
    lo_i = bisect.bisect_left(s.times, day_ago)
    hi_i = max(bisect.bisect_right(s.times, t), lo_i + 1)
    window = s.rows[lo_i:hi_i]
    highs = [r[1] for r in window] + [price]
    lows = [r[2] for r in window] + [price]
    volume = sum(r[4] * r[3] for r in window)  # base volume x close = quote volume
    before = _price_at(s, day_ago)
    hour_before = _price_at(s, max(t - 3600, s.start))
    week_before = _price_at(s, max(t - 7 * _DAY, s.start))
    return QuoteData(
        asset=asset,
        price=round(price, 8),
        source=SOURCE,
        as_of=now,
        fetched_at=now,
        volume_24h=volume,
        change_1h=(price / hour_before - 1) * 100 if s.step <= 3600 else None,
        change_24h=(price / before - 1) * 100,
        change_7d=(price / week_before - 1) * 100,
        high_24h=max(highs),
        low_24h=min(lows),
    )


def quotes(
    *, assets: Sequence[AssetData] | None = None, top: int = 50, now: datetime | None = None
) -> list[QuoteData]:
    """Live-looking quotes of the given assets (or of every recorded coin, best rank first)."""
    if _root() is None:
        raise ProviderError(SOURCE, "no sample data (CRYPTOCAST_SAMPLE_DATA)", counts=False)
    now = now or datetime.now(UTC)
    if assets is None:
        by_symbol = by_field(
            sorted(KNOWN_ASSETS.values(), key=lambda a: a.rank or 10**6), "cryptocompare_symbol"
        )
        assets = [by_symbol[s] for s in available_symbols() if s in by_symbol]
        assets = sorted(assets, key=lambda a: a.rank or 10**6)[:top]
    out = [q for q in (quote(a, now=now) for a in assets) if q is not None]
    return out


def recent_candles(
    *, symbol: str, interval: str = "1h", count: int = 24, now: datetime | None = None
) -> list[CandleData]:
    """The last ``count`` closed candles before the replay instant, re-stamped onto real time.

    The recorded candle that closes at the replay instant is shifted to close at ``now``
    (floored to the interval), so a chart of these looks live.
    """
    s = series(symbol, interval)
    if s is None:
        raise ProviderError(
            SOURCE, f"no recorded {interval} candles for {symbol.upper()}", counts=False
        )
    now = now or datetime.now(UTC)
    t = replay_time(s, now)
    last = bisect.bisect_right(s.times, t - s.step)  # candles fully closed before t
    first = max(last - count, 0)
    now_floor = int(now.timestamp()) // s.step * s.step
    shift = now_floor - (s.times[last - 1] + s.step) if last else 0
    out = []
    for i in range(first, last):
        o, h, lo, c, v = s.rows[i]
        out.append(
            CandleData(
                open_time=datetime.fromtimestamp(s.times[i] + shift, tz=UTC),
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=v,
                source=SOURCE,
            )
        )
    return out


def warp(delta: timedelta) -> timedelta:
    """How much recorded time plays during ``delta`` of real time."""
    return delta * settings.MARKET_REPLAY_SPEED
