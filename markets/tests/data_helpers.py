"""Builders for the stored-data tests (A1's files): assets, quotes and candles in a few lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from markets.contracts import AssetData, CandleData, QuoteBatch, QuoteData
from markets.models import Asset
from markets.services import assets_upsert, candles_upsert, quotes_store

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def asset_data(slug: str, symbol: str, rank: int | None = None, **kw) -> AssetData:  # type: ignore[no-untyped-def]
    return AssetData(slug=slug, symbol=symbol, name=kw.pop("name", slug.title()), rank=rank, **kw)


def make_asset(slug: str = "bitcoin", symbol: str = "BTC", rank: int | None = 1, **kw) -> Asset:  # type: ignore[no-untyped-def]
    return assets_upsert(assets=[asset_data(slug, symbol, rank, **kw)]).assets[slug]


def quote(
    data: AssetData,
    price: float,
    *,
    as_of: datetime | None = None,
    source: str = "coingecko",
    **kw,  # type: ignore[no-untyped-def]
) -> QuoteData:
    now = datetime.now(UTC)
    return QuoteData(
        asset=data,
        price=price,
        source=source,
        as_of=as_of or now,
        fetched_at=kw.pop("fetched_at", now),
        **kw,
    )


def store(*quotes: QuoteData, fallback_reason: str = "") -> None:
    quotes_store(
        batch=QuoteBatch(
            quotes=tuple(quotes), source=quotes[0].source, fallback_reason=fallback_reason
        )
    )


def candle(i: int, *, price: float = 100.0, step: timedelta = timedelta(days=1)) -> CandleData:
    return CandleData(
        open_time=T0 + i * step,
        open=price,
        high=price + 2,
        low=price - 2,
        close=price + 1,
        volume=10.0 + i,
        source="test",
    )


def make_candles(asset: Asset, indexes, *, interval: str = "1d", price: float = 100.0) -> int:  # type: ignore[no-untyped-def]
    step = timedelta(seconds={"1m": 60, "5m": 300, "1h": 3600, "4h": 14400, "1d": 86400}[interval])
    return candles_upsert(
        asset=asset,
        interval=interval,
        candles=[candle(i, price=price + i, step=step) for i in indexes],
    )
