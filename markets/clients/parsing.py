"""How the vendor clients hold payloads to account: strict number types for the pydantic
schemas, vendor timestamps to UTC, and candles checked against the database's rules.

Every client returns ``markets.contracts`` dataclasses and raises ``core.http.ProviderError``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

from pydantic import Field, Strict

from core.http import InvalidPayload
from markets.contracts import CandleData

# Strict JSON numbers (CoinGecko, CryptoCompare): a string or a bool where a number belongs is
# garbage; prices must be finite and positive.
StrictPrice = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
StrictAmount = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
StrictPercent = Annotated[float, Strict(), Field(allow_inf_nan=False)]
# Binance/CoinCap send decimals as strings: parsed, then held to the same bounds.
TextPrice = Annotated[float, Field(gt=0, allow_inf_nan=False)]
TextAmount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
TextPercent = Annotated[float, Field(allow_inf_nan=False)]


def utc_from_ms(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def utc_from_s(s: float) -> datetime:
    return datetime.fromtimestamp(s, tz=UTC)


def checked_candle(
    *,
    open_time: datetime,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: float,
    source: str,
) -> CandleData:
    """A candle that satisfies the database constraints, or ``InvalidPayload`` (never stored)."""
    values = (open, high, low, close, volume)
    if any(not math.isfinite(v) for v in values):
        raise InvalidPayload(f"non-finite candle value at {open_time.isoformat()}")
    if min(open, high, low, close) <= 0 or volume < 0:
        raise InvalidPayload(f"non-positive candle value at {open_time.isoformat()}")
    if high < low or high < max(open, close) or low > min(open, close):
        raise InvalidPayload(f"inconsistent high/low at {open_time.isoformat()}")
    return CandleData(
        open_time=open_time,
        open=open,
        high=high,
        low=low,
        close=close,
        volume=volume,
        source=source,
    )
