"""markets.selectors: symbol resolution never guesses, coverage reports gaps, candle frames."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from markets import selectors
from markets.models import Candle
from markets.tests.data_helpers import (
    T0,
    make_asset,
    make_candles,
)

pytestmark = pytest.mark.django_db


def test_coverage_lists_gaps_without_filling_them():
    asset = make_asset()
    make_candles(asset, [0, 1, 2, 5, 6, 9])
    cov = selectors.candle_coverage(asset=asset, interval="1d")
    assert (cov.expected, cov.present, cov.missing) == (10, 6, 4)
    assert [(g.start, g.end, g.missing) for g in cov.gaps] == [
        (T0 + timedelta(days=3), T0 + timedelta(days=4), 2),
        (T0 + timedelta(days=7), T0 + timedelta(days=8), 2),
    ]
    assert cov.coverage_pct == 60.0
    assert Candle.objects.count() == 6


def test_coverage_endpoint(api_client):  # type: ignore[no-untyped-def]
    asset = make_asset()
    make_candles(asset, [0, 1, 3], interval="1h")
    body = api_client.get("/api/v1/cryptocurrencies/BTC/coverage", {"interval": "1h"}).json()
    assert body["expected"] == 4 and body["missing"] == 1
    assert body["gaps"] == [
        {"start": "2024-01-01T02:00:00Z", "end": "2024-01-01T02:00:00Z", "missing": 1}
    ]
    empty = api_client.get("/api/v1/cryptocurrencies/BTC/coverage").json()
    assert empty["expected"] == 0 and empty["first"] is None
    bad = api_client.get("/api/v1/cryptocurrencies/BTC/coverage", {"interval": "3d"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "interval"


def test_candle_frame_is_utc_indexed_float_ohlcv():
    asset = make_asset()
    make_candles(asset, range(4))
    frame = selectors.candle_frame(asset="bitcoin", start=T0 + timedelta(days=1))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.index.name == "open_time" and str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp("2024-01-02", tz="UTC") and len(frame) == 3
    assert (frame.dtypes == "float64").all()
    empty = selectors.candle_frame(asset=asset, interval="1h")
    assert empty.empty and list(empty.columns) == list(frame.columns)


def test_asset_get_never_guesses():
    make_asset("bitcoin", "BTC", 1)
    with pytest.raises(selectors.AssetNotFound):
        selectors.asset_get("")
    with pytest.raises(selectors.AssetNotFound):
        selectors.asset_get("ETH")
    assert selectors.asset_get(" btc ").pk == "bitcoin"
