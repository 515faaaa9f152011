"""The markets side of the stream: validating channel keys and building fresh snapshots.

Registered with ``streaming`` from ``MarketsConfig.ready()``; ``streaming`` calls these when a
client subscribes (``quotes:*``, ``quotes:<id>``, ``candles:<id>:<interval>``). Payloads are
``markets.payloads``' — the shapes REST serves — and a subscriber's ``vs`` converts them with
the same functions as REST's ``vs=`` (``currency.convert_quote`` at today's rate for quotes,
``currency.candles_in`` at each candle's own day's rate for candles).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from streaming.services import ChannelError
from streaming.services.convert import Conversion

from . import currency, selectors
from .contracts import UnknownCurrency
from .live import BOARD_SIZE
from .models import Asset
from .payloads import candle_payload, quote_payload

SNAPSHOT_CANDLES = 200
# Daily rates loaded for converting candles: the snapshot's 200 daily candles and then some.
CANDLE_RATE_DAYS = SNAPSHOT_CANDLES + 10


def _currency_error(exc: UnknownCurrency) -> ChannelError:
    return ChannelError(
        "unknown_currency",
        f"unsupported currency {exc.vs!r}; supported: {', '.join(exc.supported)} "
        "(GET /api/v1/currencies)",
    )


def quotes_currency(vs: str) -> Conversion:
    """Quotes in ``vs`` at the rate of now (as ``prices?vs=``), its provenance per item."""
    try:
        rate = currency.rate(vs)
    except UnknownCurrency as exc:
        raise _currency_error(exc) from exc

    def apply(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [currency.convert_quote(item, rate) for item in items]

    return Conversion(vs=rate.vs, token=f"{rate.vs}@{rate.per_usd!r}@{rate.as_of}", apply=apply)


def candles_currency(vs: str) -> Conversion:
    """Candles in ``vs``, each at its own day's rate (as ``prices/history?vs=``)."""
    end = timezone.now()
    try:
        series = currency.rate_series_points(
            vs, start=end - timedelta(days=CANDLE_RATE_DAYS), end=end
        )
    except UnknownCurrency as exc:
        raise _currency_error(exc) from exc
    last = series.points[-1] if series.points else (None, 1.0)

    def apply(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return currency.candles_in(items, series)

    return Conversion(vs=series.vs, token=f"{series.vs}@{last[1]!r}@{last[0]}", apply=apply)


def _unknown(asset_id: str) -> str:
    return (
        f"unknown asset {asset_id!r}: channels use the asset id (e.g. quotes:bitcoin); "
        "GET /api/v1/cryptocurrencies/ lists them"
    )


def validate_channel(channel: str) -> str | None:
    parts = channel.split(":")
    if parts[0] == "quotes" and parts[1] == "*":
        return None
    asset_id = parts[1]
    if not Asset.objects.filter(pk=asset_id).exists():
        return _unknown(asset_id)
    return None


def quotes_snapshot(channel: str) -> list[dict[str, Any]]:
    key = channel.split(":", 1)[1]
    now = timezone.now()
    quotes = (
        selectors.latest_quotes(top=BOARD_SIZE)
        if key == "*"
        else selectors.latest_quotes(ids=[key])
    )
    return [quote_payload(asset=q.asset, quote=q, now=now) for q in quotes]


def candles_snapshot(channel: str) -> list[dict[str, Any]]:
    _, asset_id, interval = channel.split(":")
    asset = Asset.objects.filter(pk=asset_id).first()
    if asset is None:
        return []
    rows = selectors.recent_candles(asset=asset, interval=interval, limit=SNAPSHOT_CANDLES)
    return [candle_payload(c) for c in rows]
