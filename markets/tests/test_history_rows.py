"""``history_row`` builds exactly what ``CandleSerializer`` (the documented shape) would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from markets.models import Asset, Candle
from markets.payloads import HISTORY_FIELDS, history_row
from markets.serializers.assets import CandleSerializer

pytestmark = pytest.mark.django_db


def test_history_row_equals_the_serializer_for_stored_candles() -> None:
    asset = Asset.objects.create(id="bitcoin", symbol="BTC", name="Bitcoin", rank=1)
    times = [
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 2, 13, 5, 7, 123456, tzinfo=UTC),  # microseconds survive
    ]
    for i, t in enumerate(times):
        Candle.objects.create(
            asset=asset, interval="1d", open_time=t, open=1.5 + i / 2, high=2.25, low=0.125,
            close=2.0, volume=1e12 + i, source="binance" if i else "",
        )  # fmt: skip
    rows = Candle.objects.order_by("open_time").values(*HISTORY_FIELDS)
    candles = Candle.objects.order_by("open_time")
    assert [history_row(r) for r in rows] == CandleSerializer(candles, many=True).data
    assert history_row(rows[1])["open_time"] == "2024-01-02T13:05:07.123456Z"
