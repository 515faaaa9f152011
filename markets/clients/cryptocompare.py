"""CryptoCompare (CoinDesk Data) min-api: ``histoday``/``histohour`` candles and
``pricemultifull`` quotes. Errors come back as HTTP 200 with ``"Response": "Error"``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.http import InvalidPayload, ProviderError
from markets.contracts import AssetData, CandleData, QuoteData

from .config import http
from .known_assets import by_field
from .parsing import StrictAmount, StrictPercent, StrictPrice, checked_candle, utc_from_s

SOURCE = "cryptocompare"


class _Bar(BaseModel):
    model_config = ConfigDict(extra="ignore")

    time: int
    open: StrictAmount
    high: StrictAmount
    low: StrictAmount
    close: StrictAmount
    volumefrom: StrictAmount
    volumeto: StrictAmount


class _Raw(BaseModel):
    model_config = ConfigDict(extra="ignore")

    PRICE: StrictPrice
    MKTCAP: StrictAmount | None = None
    TOTALVOLUME24HTO: StrictAmount | None = None
    VOLUME24HOURTO: StrictAmount | None = None
    CHANGEPCT24HOUR: StrictPercent | None = None
    CHANGEPCTHOUR: StrictPercent | None = None
    HIGH24HOUR: StrictPrice | None = None
    LOW24HOUR: StrictPrice | None = None
    LASTUPDATE: int


def _check_response(data: Any) -> None:
    if not isinstance(data, dict):
        raise InvalidPayload("expected a JSON object")
    if data.get("Response") == "Error":
        message = str(data.get("Message", ""))[:120]
        if "rate limit" in message.lower():
            raise ProviderError(SOURCE, "429 rate limited", status=429, retryable=False)
        raise InvalidPayload(f"error response: {message}")


def _parse_hist(data: Any) -> list[CandleData]:
    _check_response(data)
    rows = data.get("Data")
    if isinstance(rows, dict):  # v2 wraps the bars one level deeper
        rows = rows.get("Data")
    if not isinstance(rows, list):
        raise InvalidPayload("no Data array")
    out = []
    for raw in rows:
        bar = _Bar.model_validate(raw)
        if bar.open == bar.high == bar.low == bar.close == 0:  # padding before the coin existed
            continue
        out.append(
            checked_candle(
                open_time=utc_from_s(bar.time),
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volumefrom,
                source=SOURCE,
            )
        )
    return out


def _hist(
    path: str, *, fsym: str, tsym: str, limit: int, to: datetime | None, exchange: str
) -> list[CandleData]:
    params: dict[str, Any] = {
        "fsym": fsym.upper(),
        "tsym": tsym.upper(),
        "limit": max(1, min(limit, 2000)),
    }
    if to is not None:
        params["toTs"] = int(to.timestamp())
    if exchange:
        params["e"] = exchange
    return http(SOURCE).get_json(path, params=params, parse=_parse_hist)


def histoday(
    *,
    fsym: str,
    tsym: str = "USD",
    limit: int = 2000,
    to: datetime | None = None,
    exchange: str = "",
) -> list[CandleData]:
    """Daily bars (``time`` = the UTC day's open); volume in the base asset (``volumefrom``)."""
    return _hist("/data/v2/histoday", fsym=fsym, tsym=tsym, limit=limit, to=to, exchange=exchange)


def histohour(
    *,
    fsym: str,
    tsym: str = "USD",
    limit: int = 2000,
    to: datetime | None = None,
    exchange: str = "",
) -> list[CandleData]:
    return _hist("/data/v2/histohour", fsym=fsym, tsym=tsym, limit=limit, to=to, exchange=exchange)


def price_multi_full(*, assets: Sequence[AssetData], tsym: str = "USD") -> list[QuoteData]:
    """``/data/pricemultifull``: quotes for assets with a CryptoCompare symbol."""
    by_sym = by_field(assets, "cryptocompare_symbol")
    if not by_sym:
        return []

    def parse(data: Any) -> list[QuoteData]:
        _check_response(data)
        raw = data.get("RAW")
        if not isinstance(raw, dict):
            raise InvalidPayload("no RAW object")
        fetched = datetime.now(UTC)
        out = []
        for sym, asset in by_sym.items():
            entry = raw.get(sym, {}).get(tsym.upper()) if isinstance(raw.get(sym), dict) else None
            if entry is None:
                continue
            r = _Raw.model_validate(entry)
            out.append(
                QuoteData(
                    asset=asset,
                    price=r.PRICE,
                    source=SOURCE,
                    as_of=utc_from_s(r.LASTUPDATE),
                    fetched_at=fetched,
                    market_cap=r.MKTCAP,
                    volume_24h=r.TOTALVOLUME24HTO
                    if r.TOTALVOLUME24HTO is not None
                    else r.VOLUME24HOURTO,
                    change_1h=r.CHANGEPCTHOUR,
                    change_24h=r.CHANGEPCT24HOUR,
                    high_24h=r.HIGH24HOUR,
                    low_24h=r.LOW24HOUR,
                )
            )
        return out

    params = {"fsyms": ",".join(sorted(by_sym)), "tsyms": tsym.upper()}
    return http(SOURCE).get_json("/data/pricemultifull", params=params, parse=parse)
