"""The markets side of the stream: validating channel keys and building fresh snapshots.

Registered with ``streaming`` from ``MarketsConfig.ready()``; ``streaming`` calls these when a
client subscribes (``quotes:*``, ``quotes:<id>``, ``candles:<id>:<interval>``). Payloads are
``markets.payloads``' — the shapes REST serves.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from . import selectors
from .live import BOARD_SIZE
from .models import Asset
from .payloads import candle_payload, quote_payload

SNAPSHOT_CANDLES = 200


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
