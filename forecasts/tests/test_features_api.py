"""Features API: the engine's own features over stored candles, no look-ahead, 3 formats."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from forecasts.engine.features import build_features

pytestmark = pytest.mark.django_db


@pytest.fixture
def btc(sample_data, tmp_path):
    """The last 600 real daily BTC candles (2023-11 .. 2025-07) loaded as the store holds them."""
    from markets.services import load_sample_data

    (tmp_path / "ohlcv" / "daily").mkdir(parents=True)
    lines = (sample_data / "ohlcv" / "daily" / "BTC.csv").read_text().splitlines()
    (tmp_path / "ohlcv" / "daily" / "BTC.csv").write_text("\n".join([lines[0], *lines[-600:]]))
    load_sample_data(data_dir=tmp_path)


def test_technical_features_are_the_engines_own_on_the_stored_candles(api_client, btc):
    from markets import selectors

    body = api_client.get(
        "/api/v1/features/technical/BTC", {"start": "2025-06-01", "end": "2025-06-30"}
    ).json()
    assert body["count"] == 30 and body["source"] == "binance-sample"
    frame = selectors.candle_frame(asset="bitcoin", interval="1d")
    expected = build_features(frame).loc["2025-06-15"]
    row = next(r for r in body["data"] if r["time"].startswith("2025-06-15"))
    for column in ("rsi_14", "macd", "bb_position", "roc_10", "vol_30", "volume_z_30"):
        assert row[column] == pytest.approx(expected[column], rel=1e-9), column
    doc = {c["name"]: c for c in body["columns"]}
    assert doc["rsi_14"]["description"].startswith("RSI over 14 days")
    assert doc["vol_30"]["lookback_days"] == 30


def test_technical_rows_never_use_later_candles(api_client, btc):
    params = {"columns": "rsi_14,macd_diff,vol_7,close_sma_30"}
    early = api_client.get(
        "/api/v1/features/technical/bitcoin", {**params, "start": "2025-03-01", "end": "2025-03-10"}
    ).json()["data"]
    late = api_client.get(
        "/api/v1/features/technical/bitcoin", {**params, "start": "2025-03-01", "end": "2025-06-30"}
    ).json()["data"]
    assert early == late[: len(early)]


def test_ohlcv_as_csv_and_parquet(api_client, btc):
    import pyarrow.parquet as pq

    csv = api_client.get(
        "/api/v1/features/ohlcv/BTC", {"start": "2025-07-01", "end": "2025-07-05", "format": "csv"}
    )
    assert csv["Content-Type"].startswith("text/csv")
    frame = pd.read_csv(io.StringIO(csv.content.decode()))
    assert list(frame.columns) == ["time", "open", "high", "low", "close", "volume"]
    assert len(frame) == 5 and frame["close"].iloc[-1] == pytest.approx(108198.12)
    pq_response = api_client.get(
        "/api/v1/features/technical/BTC",
        {"start": "2025-07-01", "end": "2025-07-05", "format": "parquet"},
    )
    assert pq_response["Content-Type"] == "application/vnd.apache.parquet"
    table = pq.read_table(io.BytesIO(pq_response.content))
    assert table.num_rows == 5 and "rsi_14" in table.column_names
    assert b"binance-sample" in table.schema.metadata[b"cryptocast"]


def test_price_and_prices(api_client, btc):
    one = api_client.get("/api/v1/features/price/BTC", {"start": "2025-07-01", "end": "2025-07-05"})
    assert one.json()["data"][-1]["close"] == pytest.approx(108198.12)
    many = api_client.get(
        "/api/v1/features/prices", {"symbols": "BTC", "start": "2025-07-01", "end": "2025-07-02"}
    ).json()
    assert many["ids"] == ["bitcoin"] and many["data"][0]["bitcoin"] > 0


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"days": 99999}, "days"),
        ({"start": "2025-07-05", "end": "2025-07-01"}, "start"),
        ({"start": "2000-01-01", "end": "2025-07-01"}, "start"),
        ({"columns": "rsi_14,not_a_feature"}, "columns"),
    ],
)
def test_bad_ranges_and_columns_are_400_naming_the_field(api_client, params, attr):
    response = api_client.get("/api/v1/features/technical/BTC", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == attr


def test_unknown_asset_is_a_404_envelope_even_for_csv(api_client):
    response = api_client.get("/api/v1/features/ohlcv/NOPE", {"format": "csv"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "not_found"


def test_prices_needs_symbols(api_client):
    response = api_client.get("/api/v1/features/prices")
    assert response.json()["errors"][0]["attr"] == "symbols"


def test_feature_sets_name_the_models_and_their_columns(api_client):
    sets = {
        s["name"]: s for s in api_client.get("/api/v1/features/feature-sets").json()["feature_sets"]
    }
    assert "lightgbm" in sets["tabular"]["models"] and "lstm" in sets["sequence"]["models"]
    assert "naive" in sets["close"]["models"]
    names = [c["name"] for c in sets["tabular"]["columns"]]
    assert {"rsi_14", "macd", "bb_width", "roc_10", "vol_30", "volume_z_30"} <= set(names)
    assert all(c["description"] for c in sets["tabular"]["columns"])
