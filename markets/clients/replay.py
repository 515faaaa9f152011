"""Replay provider: recorded returns played as a live market (time-warped), ``source="replay"``.

It continues from the **last stored real price** of each coin (an ``Anchor``: the newest
candle close or quote not made by the replay), so the table, the chart and the forecasts agree:

    x(t)  = START + (t - MARKET_REPLAY_ANCHOR) * MARKET_REPLAY_SPEED      (recorded time)
    P(t)  = anchor.price * exp(L(x(t)) - L(x(anchor.time)))

``L`` is the recorded log price, unwrapped across the recorded span (it repeats) with the span's
drift removed, so it is continuous at every wrap and stays in a plausible range forever. Inside
a recorded candle the price walks open -> low/high -> close (high first on a down candle).
Deterministic given the clock and the anchor. Hourly series (``ohlcv/hourly/<SYM>.csv.gz``) are
used when present, daily ones otherwise. No network: it drives the offline demo, streaming
tests and load tests.
"""

from __future__ import annotations

import bisect
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings

from core.http import ProviderError
from core.ohlcv import open_text, parse_ohlcv
from markets.contracts import AssetData, CandleData, QuoteData

from .known_assets import KNOWN_ASSETS, by_field

SOURCE = "replay"
_DAY = 86_400


@dataclass(frozen=True)
class Series:
    symbol: str
    step: int  # seconds per candle
    times: tuple[int, ...]  # open times, epoch seconds, ascending
    rows: tuple[tuple[float, float, float, float, float], ...]  # o, h, l, c, v
    _paths: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def start(self) -> int:
        return self.times[0]

    @property
    def end(self) -> int:
        return self.times[-1] + self.step


@dataclass(frozen=True)
class Anchor:
    """The last real price the replay continues from, and when it was true."""

    time: datetime
    price: float


_lock = threading.Lock()
_series_cache: dict[tuple[str, str], Series | None] = {}


def _root() -> Path | None:
    root = getattr(settings, "CRYPTOCAST_SAMPLE_DATA", "")
    if not root:
        return None
    path = Path(root) / "ohlcv"
    return path if path.is_dir() else None


def _read(path: Path, step: int, symbol: str) -> Series:
    """A recorded file through the one OHLCV parser (``core.ohlcv``); a bad file is an error."""
    with open_text(path) as fh:
        table = parse_ohlcv(fh)
    if table.problems:
        first = table.problems[0]
        raise ValueError(f"{path.name}: line {first.line}: {first.message}")
    return Series(
        symbol=symbol,
        step=step,
        times=tuple(int(r.open_time.timestamp()) for r in table.rows),
        rows=tuple((r.open, r.high, r.low, r.close, r.volume) for r in table.rows),
    )


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


class ReplayPath:
    """The detrended, unwrapped log-price path of a series over recorded time (numpy)."""

    def __init__(self, s: Series, start: float) -> None:
        i0 = max(bisect.bisect_right(s.times, start) - 1, 0)
        vt: list[float] = []
        vp: list[float] = []
        for t, (o, h, lo, c, _v) in zip(s.times[i0:], s.rows[i0:], strict=True):
            first, second = (lo, h) if c >= o else (h, lo)
            vt += [t, t + s.step / 3, t + 2 * s.step / 3, t + s.step - 1]
            vp += [o, first, second, c]
        self.t = np.asarray(vt, dtype=float)
        self.logp = np.log(np.maximum(np.asarray(vp, dtype=float), 1e-12))
        self.start = max(float(start), float(s.start))
        self.span = float(s.end) - self.start
        self.base = float(np.interp(self.start, self.t, self.logp))
        self.cycle = float(self.logp[-1]) - self.base
        self.drift = self.cycle / self.span
        # volume per recorded second of each candle (base units), for 24 h volumes
        self.ct = np.asarray(s.times[i0:], dtype=float)
        self.vps = np.asarray([r[4] for r in s.rows[i0:]], dtype=float) / s.step

    def level(self, x: np.ndarray) -> np.ndarray:
        """L(x): detrended log price at unwrapped recorded times ``x``."""
        k = np.floor((x - self.start) / self.span)
        r = x - k * self.span
        return np.interp(r, self.t, self.logp) + k * self.cycle - self.drift * (x - self.start)

    def base_volume(self, x0: float, x1: float) -> float:
        """Recorded base volume between recorded instants x0 < x1 (approximate, wrapping)."""
        xs = np.linspace(x0, x1, 49)
        k = np.floor((xs - self.start) / self.span)
        r = xs - k * self.span
        idx = np.clip(np.searchsorted(self.ct, r, side="right") - 1, 0, len(self.ct) - 1)
        return float(np.mean(self.vps[idx]) * (x1 - x0))


def path(s: Series) -> ReplayPath:
    start = _setting_time("MARKET_REPLAY_START").timestamp()
    if start >= s.end:
        start = s.start
    key = ("path", start)
    found = s._paths.get(key)
    if found is None:
        found = s._paths[key] = ReplayPath(s, start)
    return found


def replay_x(p: ReplayPath, when: np.ndarray | float) -> np.ndarray:
    """Real epoch seconds -> unwrapped recorded time."""
    anchor = _setting_time("MARKET_REPLAY_ANCHOR").timestamp()
    return p.start + (np.asarray(when, dtype=float) - anchor) * settings.MARKET_REPLAY_SPEED


def replay_time(s: Series, now: datetime) -> float:
    """Recorded instant (epoch seconds, wrapped into the recorded span) that plays at ``now``."""
    p = path(s)
    x = float(replay_x(p, now.timestamp()))
    return p.start + ((x - p.start) % p.span)


def prices(s: Series, when: np.ndarray, anchor: Anchor | None) -> np.ndarray:
    """Replayed prices at real epoch seconds ``when``, continuing from ``anchor``."""
    p = path(s)
    level = p.level(replay_x(p, when))
    if anchor is None:  # no stored price: start from the recorded price at the replay start
        return np.exp(level - p.level(np.asarray([p.start]))[0] + p.base)
    ref = p.level(replay_x(p, anchor.time.timestamp()))
    return anchor.price * np.exp(level - ref)


def _price(s: Series, t: float, anchor: Anchor | None) -> float:
    return float(prices(s, np.asarray([t]), anchor)[0])


def quote(
    asset: AssetData, *, now: datetime | None = None, anchor: Anchor | None = None
) -> QuoteData | None:
    s = series(asset.cryptocompare_symbol or asset.symbol)
    if s is None:
        return None
    now = now or datetime.now(UTC)
    t = now.timestamp()
    window = prices(s, np.linspace(t - _DAY, t, 97), anchor)
    price = float(window[-1])
    p = path(s)
    x0, x1 = (float(v) for v in replay_x(p, np.asarray([t - _DAY, t])))
    volume = p.base_volume(x0, x1) * float(np.mean(window))  # base volume x price = quote volume
    hour_before = _price(s, t - 3600, anchor)
    week_before = _price(s, t - 7 * _DAY, anchor)
    return QuoteData(
        asset=asset,
        price=round(price, 8),
        source=SOURCE,
        as_of=now,
        fetched_at=now,
        volume_24h=volume,
        change_1h=(price / hour_before - 1) * 100,
        change_24h=(price / float(window[0]) - 1) * 100,
        change_7d=(price / week_before - 1) * 100,
        high_24h=float(window.max()),
        low_24h=float(window.min()),
    )


def quotes(
    *,
    assets: Sequence[AssetData] | None = None,
    top: int = 50,
    now: datetime | None = None,
    anchors: dict[str, Anchor] | None = None,
) -> list[QuoteData]:
    """Live-looking quotes of the given assets (or of every recorded coin, best rank first).

    ``anchors`` (asset slug -> Anchor) makes each coin continue from its last stored price.
    """
    if _root() is None:
        raise ProviderError(SOURCE, "no sample data (CRYPTOCAST_SAMPLE_DATA)", counts=False)
    now = now or datetime.now(UTC)
    anchors = anchors or {}
    if assets is None:
        by_symbol = by_field(
            sorted(KNOWN_ASSETS.values(), key=lambda a: a.rank or 10**6), "cryptocompare_symbol"
        )
        assets = [by_symbol[s] for s in available_symbols() if s in by_symbol]
        assets = sorted(assets, key=lambda a: a.rank or 10**6)[:top]
    out = [q for q in (quote(a, now=now, anchor=anchors.get(a.slug)) for a in assets) if q]
    return out


def candles(
    *,
    symbol: str,
    step: int,
    start: datetime,
    end: datetime,
    anchor: Anchor | None = None,
) -> list[CandleData]:
    """Closed candles of ``step`` seconds with open times in ``[start, end]`` (aligned), cut
    from the same replayed path as the quotes (so chart and table agree)."""
    s = series(symbol)
    if s is None:
        raise ProviderError(SOURCE, f"no recorded candles for {symbol.upper()}", counts=False)
    first = math.ceil(start.timestamp() / step) * step
    last_closed = (math.floor(datetime.now(UTC).timestamp() / step) - 1) * step
    stop = min(int(end.timestamp()), last_closed)
    opens = np.arange(first, stop + 1, step, dtype=float)
    if not len(opens):
        return []
    samples = max(4, min(200, int(step * settings.MARKET_REPLAY_SPEED * 12 / s.step) + 1))
    grid = opens[:, None] + np.linspace(0, step - 1, samples)[None, :]
    px = prices(s, grid.ravel(), anchor).reshape(grid.shape)
    p = path(s)
    out = []
    for i, t in enumerate(opens):
        row = px[i]
        x0, x1 = (float(v) for v in replay_x(p, np.asarray([t, t + step])))
        out.append(
            CandleData(
                open_time=datetime.fromtimestamp(int(t), tz=UTC),
                open=float(row[0]),
                high=float(row.max()),
                low=float(row.min()),
                close=float(row[-1]),
                volume=p.base_volume(x0, x1),
                source=SOURCE,
            )
        )
    return out
