"""The listing and the candle history as CSV and Excel (?format=csv / ?format=xlsx)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from markets.tests.data_helpers import asset_data, make_asset, make_candles, quote, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(db):  # type: ignore[no-untyped-def]
    btc = asset_data("bitcoin", "BTC", 1)
    eth = asset_data("ethereum", "ETH", 2)
    store(quote(btc, 60000.0), quote(eth, 3000.0))
    make_candles(make_asset("bitcoin", "BTC", 1), range(5))


def test_listing_opens_in_a_spreadsheet_with_source_and_as_of(api_client, market):
    response = api_client.get("/api/v1/cryptocurrencies/", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="cryptocurrencies.xlsx"'
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    header = rows[0]
    assert "id" in header
    ids = [row[header.index("id")] for row in rows[1:]]
    assert ids == ["bitcoin", "ethereum"]
    assert any(name.endswith("source") for name in header)
    assert any(name.endswith("as_of") for name in header)


def test_listing_as_csv_matches_the_json_page(api_client, market):
    body = api_client.get("/api/v1/cryptocurrencies/").json()
    response = api_client.get("/api/v1/cryptocurrencies/", {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["id"] for row in table] == [a["id"] for a in body["results"]]


def test_history_as_csv_has_one_row_per_candle(api_client, market):
    response = api_client.get("/api/v1/cryptocurrencies/bitcoin/history", {"format": "csv"})
    assert response.status_code == 200
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(table) == 5
    assert {"open_time", "open", "high", "low", "close", "volume", "source"} <= set(table[0])


def test_bad_history_parameters_stay_a_json_400(api_client, market):
    response = api_client.get(
        "/api/v1/cryptocurrencies/bitcoin/history", {"format": "csv", "interval": "7y"}
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["attr"] == "interval"
