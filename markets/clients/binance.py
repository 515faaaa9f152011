"""Binance spot REST: ``/api/v3/klines`` (paged for deep history) and ``/api/v3/ticker/24hr``.

Prices are in USDT, kline volume in the base asset, ticker volume taken in the quote asset.
A kline whose close time has not passed yet (still open) is never returned.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from markets.contracts import AssetData, CandleData, QuoteData

from .config import http
from .known_assets import by_field
from .parsing import TextAmount, TextPercent, TextPrice, checked_candle, utc_from_ms

SOURCE = "binance"
MAX_LIMIT = 1000
INTERVAL_MS = {
    "1m": 60_000,
    "3m": 180_000,
    "5m": 300_000,
    "15m": 900_000,
    "30m": 1_800_000,
    "1h": 3_600_000,
    "2h": 7_200_000,
    "4h": 14_400_000,
    "6h": 21_600_000,
    "8h": 28_800_000,
    "12h": 43_200_000,
    "1d": 86_400_000,
    "3d": 259_200_000,
    "1w": 604_800_000,
}

# [open time, open, high, low, close, volume, close time, quote volume, trades, ...]
_KlineRow = tuple[int, TextPrice, TextPrice, TextPrice, TextPrice, TextAmount, int]
_KlineRows = RootModel[list[list[Any]]]


class _Kline(RootModel[_KlineRow]):
    pass


class _Ticker(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str = Field(min_length=1)
    lastPrice: TextPrice
    priceChangePercent: TextPercent
    highPrice: TextPrice
    lowPrice: TextPrice
    quoteVolume: TextAmount
    closeTime: int


_TickerRows = RootModel[list[dict[str, Any]]]


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _parse_klines(data: Any) -> list[CandleData]:
    rows = _KlineRows.model_validate(data).root
    now_ms = _now_ms()
    out = []
    for raw in rows:
        open_ms, o, h, lo, c, v, close_ms = _Kline.model_validate(raw[:7]).root
        if close_ms >= now_ms:  # still open: its figures would change
            continue
        out.append(
            checked_candle(
                open_time=utc_from_ms(open_ms),
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=v,
                source=SOURCE,
            )
        )
    return out


def klines(
    *,
    symbol: str,
    interval: str = "1d",
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = MAX_LIMIT,
) -> list[CandleData]:
    """One page of ``/api/v3/klines`` (at most 1000 closed candles)."""
    if interval not in INTERVAL_MS:
        raise ValueError(f"unsupported interval {interval!r}")
    params: dict[str, Any] = {
        "symbol": symbol.upper(),
        "interval": interval,
        "limit": min(limit, MAX_LIMIT),
    }
    if start is not None:
        params["startTime"] = _ms(start)
    if end is not None:
        params["endTime"] = _ms(end)
    return http(SOURCE).get_json("/api/v3/klines", params=params, parse=_parse_klines)


def klines_range(
    *,
    symbol: str,
    interval: str,
    start: datetime,
    end: datetime,
    page_limit: int = MAX_LIMIT,
    max_pages: int = 500,
) -> list[CandleData]:
    """All closed candles with ``start <= open_time <= end``, paging 1000 at a time."""
    if interval not in INTERVAL_MS:
        raise ValueError(f"unsupported interval {interval!r}")
    if end < start:
        raise ValueError("end must not be before start")
    step = INTERVAL_MS[interval]
    cursor = _ms(start)
    end_ms = _ms(end)
    out: list[CandleData] = []
    for _ in range(max_pages):
        params = {
            "symbol": symbol.upper(),
            "interval": interval,
            "startTime": cursor,
            "endTime": end_ms,
            "limit": page_limit,
        }
        page = http(SOURCE).get_json("/api/v3/klines", params=params, parse=_parse_klines)
        page = [c for c in page if _ms(c.open_time) >= cursor]
        out.extend(page)
        if len(page) < page_limit:
            break
        cursor = _ms(page[-1].open_time) + step
        if cursor > end_ms:
            break
    return [c for c in out if c.open_time <= end]


def ticker_24hr(*, assets: Sequence[AssetData]) -> list[QuoteData]:
    """``/api/v3/ticker/24hr`` for the assets that have a Binance pair (USDT ≈ USD).

    Binance has no market cap: ``market_cap`` stays None. ``as_of`` is the window's close time.
    """
    by_pair = by_field(assets, "binance_symbol")
    if not by_pair:
        return []
    params = {"symbols": json.dumps(sorted(by_pair), separators=(",", ":"))}

    def parse(data: Any) -> list[QuoteData]:
        fetched = datetime.now(UTC)
        out = []
        for row in _TickerRows.model_validate(data).root:
            asset = by_pair.get(str(row.get("symbol")))
            if asset is None:  # other pairs are not ours to judge
                continue
            t = _Ticker.model_validate(row)
            out.append(
                QuoteData(
                    asset=asset,
                    price=t.lastPrice,
                    source=SOURCE,
                    as_of=utc_from_ms(t.closeTime),
                    fetched_at=fetched,
                    volume_24h=t.quoteVolume,
                    change_24h=t.priceChangePercent,
                    high_24h=t.highPrice,
                    low_24h=t.lowPrice,
                )
            )
        return out

    return http(SOURCE).get_json("/api/v3/ticker/24hr", params=params, parse=parse)


def ping() -> bool:
    return http(SOURCE).get_json("/api/v3/ping", parse=lambda data: isinstance(data, dict))
