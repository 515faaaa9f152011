"""Anomalies in daily candles: a robust z-score of each day's log return and log volume
against the previous ``window`` days (median and MAD, so one crash does not hide the next).

Pure: lists of floats in, frozen flags out. ``score`` is signed (a crash is negative).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime
from statistics import median

MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its standard deviation


@dataclass(frozen=True)
class Flag:
    at: datetime
    kind: str  # "return" or "volume"
    score: float  # robust z-score
    value: float  # the day's return (%) or volume multiple of the window median


def robust_z(value: float, history: list[float]) -> float | None:
    med = median(history)
    mad = median(abs(x - med) for x in history)
    if mad <= 0:
        return None
    return (value - med) / (MAD_TO_SIGMA * mad)


def detect(
    times: list[datetime],
    closes: list[float],
    volumes: list[float],
    *,
    window: int = 30,
    return_z: float = 6.0,
    volume_z: float = 6.0,
) -> list[Flag]:
    """Flags for every day with enough history (``window`` previous days)."""
    rets: list[float | None] = [None]
    for prev, cur in itertools.pairwise(closes):
        rets.append(math.log(cur / prev) if prev > 0 and cur > 0 else None)
    logv = [math.log(v) if v > 0 else None for v in volumes]
    flags: list[Flag] = []
    for i in range(window + 1, len(closes)):
        r = rets[i]
        hist = [x for x in rets[i - window : i] if x is not None]
        if r is not None and len(hist) >= window // 2:
            z = robust_z(r, hist)
            if z is not None and abs(z) >= return_z:
                flags.append(Flag(times[i], "return", round(z, 2), round(math.expm1(r) * 100, 2)))
        v = logv[i]
        vh = [x for x in logv[i - window : i] if x is not None]
        if v is not None and len(vh) >= window // 2:
            z = robust_z(v, vh)
            if z is not None and z >= volume_z:
                multiple = math.exp(v - median(vh))
                flags.append(Flag(times[i], "volume", round(z, 2), round(multiple, 2)))
    return flags
