"""Forecasts (with their intervals) and the backtest report card as CSV and Excel."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from forecasts import services

from .conftest import train_fast

pytestmark = pytest.mark.django_db
URL = "/api/v1/forecasts"


@pytest.fixture
def issued(coins, artifacts):
    train_fast("BTC,ETH", "naive,drift")
    services.generate_forecasts(symbols="BTC,ETH", models="naive,drift,auto", days=3)


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_forecasts_csv_and_xlsx_have_one_row_per_coin_and_day_with_every_interval(
    api_client, issued
):
    r = api_client.get(
        URL, {"ids": "bitcoin,ethereum", "days": 3, "model": "drift", "format": "csv"}
    )
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    assert r["Content-Disposition"] == 'attachment; filename="forecasts.csv"'
    rows = _csv(r)
    assert [(row["id"], row["horizon"]) for row in rows] == [
        (coin, str(h)) for coin in ("bitcoin", "ethereum") for h in (1, 2, 3)
    ]
    first = rows[0]
    assert first["date"] == "2025-07-06" and first["model"] == "drift"
    lows = [float(first[f"lower_{lv}"]) for lv in (95, 90, 80)]
    highs = [float(first[f"upper_{lv}"]) for lv in (80, 90, 95)]
    assert lows == sorted(lows) and highs == sorted(highs)
    assert lows[-1] < float(first["point"]) < highs[0]
    assert first["naive_rel_mae"] == "1.0"

    # the same as a workbook, prices as numbers
    r = api_client.get(URL, {"ids": "BTC", "days": 2, "model": "naive", "format": "xlsx"})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    header, *values = list(sheet.iter_rows(values_only=True))
    assert header[:5] == ("id", "symbol", "date", "horizon", "point")
    assert len(values) == 2 and isinstance(values[0][4], float)


def test_performance_csv_puts_naive_beside_each_model_and_errors_stay_json(api_client, issued):
    r = api_client.get(f"{URL}/performance", {"ids": "bitcoin", "format": "csv"})
    assert r.status_code == 200
    rows = _csv(r)
    drift = [row for row in rows if row["model"] == "drift"]
    assert drift and drift[0]["backtest_rel_mae"] and drift[0]["naive_backtest_rel_mae"] == "1.0"
    assert len({tuple(row) for row in rows}) == 1  # every row has the same columns

    # bad format and bad query: JSON 400s naming the field, on both endpoints
    for path in ("", "/performance"):
        r = api_client.get(URL + path, {"ids": "bitcoin", "format": "docx"})
        assert r.status_code == 400 and r.json()["errors"][0]["attr"] == "format"
        r = api_client.get(URL + path, {"ids": "nope-coin", "format": "csv"})
        assert r.status_code == 400 and r["Content-Type"] == "application/json"
        assert r.json()["errors"][0]["attr"] == "ids"
