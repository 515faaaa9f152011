"""CoinGecko API v3: markets, simple price, OHLC, market charts, trending, global.

CoinGecko stamps OHLC candles at their CLOSE; we convert to ``open_time`` (candle open).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel

from core.http import InvalidPayload
from markets.contracts import AssetData, CandleData, ChartPoint, GlobalData, QuoteData, TrendingCoin

from .config import http
from .known_assets import enrich
from .parsing import (
    StrictAmount,
    StrictPercent,
    StrictPrice,
    checked_candle,
    utc_from_ms,
    utc_from_s,
)

SOURCE = "coingecko"


class _Market(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    name: str = Field(min_length=1)
    image: str | None = None
    current_price: StrictPrice
    market_cap: StrictAmount | None = None
    market_cap_rank: int | None = None
    total_volume: StrictAmount | None = None
    high_24h: StrictPrice | None = None
    low_24h: StrictPrice | None = None
    price_change_percentage_24h: StrictPercent | None = None
    price_change_percentage_1h_in_currency: StrictPercent | None = None
    price_change_percentage_24h_in_currency: StrictPercent | None = None
    price_change_percentage_7d_in_currency: StrictPercent | None = None
    price_change_percentage_30d_in_currency: StrictPercent | None = None
    last_updated: datetime | None = None


_Markets = RootModel[list[_Market]]
_SimplePrice = RootModel[dict[str, dict[str, StrictPrice]]]
_OhlcRows = RootModel[list[tuple[int | float, StrictPrice, StrictPrice, StrictPrice, StrictPrice]]]


class _Chart(BaseModel):
    prices: list[tuple[int | float, StrictPrice]]
    market_caps: list[tuple[int | float, StrictAmount | None]] = []
    total_volumes: list[tuple[int | float, StrictAmount | None]] = []


class _TrendingItem(BaseModel):
    id: str = Field(min_length=1)
    name: str
    symbol: str
    market_cap_rank: int | None = None
    score: int = 0
    price_btc: StrictAmount | None = None
    large: str | None = None


class _Trending(BaseModel):
    coins: list[dict[str, _TrendingItem]]


class _GlobalData(BaseModel):
    active_cryptocurrencies: int | None = None
    markets: int | None = None
    total_market_cap: dict[str, StrictAmount]
    total_volume: dict[str, StrictAmount]
    market_cap_percentage: dict[str, StrictAmount]
    market_cap_change_percentage_24h_usd: StrictPercent | None = None
    updated_at: int | None = None


class _Global(BaseModel):
    data: _GlobalData


def _now() -> datetime:
    return datetime.now(UTC)


def coins_markets(
    *, vs: str = "usd", ids: Sequence[str] | None = None, per_page: int = 50, page: int = 1
) -> list[QuoteData]:
    """``/coins/markets``: price, market cap, volume and 1h/24h/7d/30d changes, by market cap."""
    params: dict[str, Any] = {
        "vs_currency": vs,
        "order": "market_cap_desc",
        "per_page": max(1, min(per_page, 250)),
        "page": page,
        "sparkline": "false",
        "price_change_percentage": "1h,24h,7d,30d",
    }
    if ids:
        params["ids"] = ",".join(ids)

    def parse(data: Any) -> list[QuoteData]:
        rows = _Markets.model_validate(data).root
        fetched = _now()
        out = []
        for row in rows:
            asset = enrich(
                AssetData(
                    slug=row.id,
                    symbol=row.symbol.upper(),
                    name=row.name,
                    rank=row.market_cap_rank,
                    coingecko_id=row.id,
                    image_url=row.image or "",
                )
            )
            out.append(
                QuoteData(
                    asset=asset,
                    price=row.current_price,
                    source=SOURCE,
                    as_of=(row.last_updated or fetched).astimezone(UTC),
                    fetched_at=fetched,
                    market_cap=row.market_cap,
                    volume_24h=row.total_volume,
                    change_1h=row.price_change_percentage_1h_in_currency,
                    change_24h=(
                        row.price_change_percentage_24h_in_currency
                        if row.price_change_percentage_24h_in_currency is not None
                        else row.price_change_percentage_24h
                    ),
                    change_7d=row.price_change_percentage_7d_in_currency,
                    change_30d=row.price_change_percentage_30d_in_currency,
                    high_24h=row.high_24h,
                    low_24h=row.low_24h,
                )
            )
        return out

    return http(SOURCE).get_json("/coins/markets", params=params, parse=parse)


def simple_price(*, ids: Sequence[str], vs: str = "usd") -> dict[str, float]:
    """``/simple/price``: {coin id: price}. A requested id missing from the answer is absent."""
    if not ids:
        return {}

    def parse(data: Any) -> dict[str, float]:
        table = _SimplePrice.model_validate(data).root
        out: dict[str, float] = {}
        for coin_id, prices in table.items():
            if vs in prices:
                out[coin_id] = prices[vs]
        return out

    return http(SOURCE).get_json(
        "/simple/price", params={"ids": ",".join(ids), "vs_currencies": vs}, parse=parse
    )


def ohlc_step(days: int | str) -> timedelta:
    """Candle body of ``/coins/{id}/ohlc`` by ``days`` (CoinGecko's documented granularity)."""
    if days == "max":
        return timedelta(days=4)
    d = int(days)
    if d <= 2:
        return timedelta(minutes=30)
    if d <= 30:
        return timedelta(hours=4)
    return timedelta(days=4)


def ohlc(*, coin_id: str, vs: str = "usd", days: int | str = 7) -> list[CandleData]:
    """``/coins/{id}/ohlc``: rows are stamped at the candle close; we return open times.

    CoinGecko gives no volume here, so ``volume`` is 0.0.
    """
    step = ohlc_step(days)

    def parse(data: Any) -> list[CandleData]:
        rows = _OhlcRows.model_validate(data).root
        return [
            checked_candle(
                open_time=utc_from_ms(ts) - step,
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=0.0,
                source=SOURCE,
            )
            for ts, o, h, lo, c in rows
        ]

    return http(SOURCE).get_json(
        f"/coins/{coin_id}/ohlc", params={"vs_currency": vs, "days": days}, parse=parse
    )


def _chart_parse(data: Any) -> list[ChartPoint]:
    chart = _Chart.model_validate(data)
    caps = {int(ts): v for ts, v in chart.market_caps}
    vols = {int(ts): v for ts, v in chart.total_volumes}
    return [
        ChartPoint(
            time=utc_from_ms(ts), price=p, market_cap=caps.get(int(ts)), volume=vols.get(int(ts))
        )
        for ts, p in chart.prices
    ]


def market_chart(
    *, coin_id: str, vs: str = "usd", days: int | str = 30, interval: str | None = None
) -> list[ChartPoint]:
    """``/coins/{id}/market_chart``: price, market cap and 24h volume points."""
    params: dict[str, Any] = {"vs_currency": vs, "days": days}
    if interval:
        params["interval"] = interval
    return http(SOURCE).get_json(
        f"/coins/{coin_id}/market_chart", params=params, parse=_chart_parse
    )


def market_chart_range(
    *, coin_id: str, start: datetime, end: datetime, vs: str = "usd"
) -> list[ChartPoint]:
    """``/coins/{id}/market_chart/range`` between two instants (free plan: last 365 days)."""
    if end <= start:
        raise ValueError("end must be after start")
    params = {"vs_currency": vs, "from": int(start.timestamp()), "to": int(end.timestamp())}
    return http(SOURCE).get_json(
        f"/coins/{coin_id}/market_chart/range", params=params, parse=_chart_parse
    )


def trending() -> list[TrendingCoin]:
    """``/search/trending``: the coins searched most in the last 24 hours."""

    def parse(data: Any) -> list[TrendingCoin]:
        body = _Trending.model_validate(data)
        out = []
        for entry in body.coins:
            item = entry.get("item")
            if item is None:
                raise InvalidPayload("trending entry without 'item'")
            asset = enrich(
                AssetData(
                    slug=item.id,
                    symbol=item.symbol.upper(),
                    name=item.name,
                    rank=item.market_cap_rank,
                    coingecko_id=item.id,
                    image_url=item.large or "",
                )
            )
            out.append(TrendingCoin(asset=asset, score=item.score, price_btc=item.price_btc))
        return out

    return http(SOURCE).get_json("/search/trending", parse=parse)


def global_data() -> GlobalData:
    """``/global``: total market cap and volume (USD) and dominance by coin."""

    def parse(data: Any) -> GlobalData:
        body = _Global.model_validate(data).data
        if "usd" not in body.total_market_cap or "usd" not in body.total_volume:
            raise InvalidPayload("global figures without usd")
        fetched = _now()
        return GlobalData(
            total_market_cap_usd=body.total_market_cap["usd"],
            total_volume_usd=body.total_volume["usd"],
            market_cap_change_24h=body.market_cap_change_percentage_24h_usd,
            dominance=dict(body.market_cap_percentage),
            active_cryptocurrencies=body.active_cryptocurrencies,
            markets=body.markets,
            source=SOURCE,
            as_of=utc_from_s(body.updated_at) if body.updated_at else fetched,
            fetched_at=fetched,
        )

    return http(SOURCE).get_json("/global", parse=parse)


def ping() -> bool:
    """``/ping``: cheapest liveness probe."""
    return http(SOURCE).get_json("/ping", parse=lambda data: isinstance(data, dict))
