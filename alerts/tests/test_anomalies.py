"""Anomaly detection: the pure detector on recorded candles, the beat job's service, the API
and an alert subscribed to the flags."""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from alerts import services
from alerts.engine.anomaly import detect
from alerts.models import AlertEvent, Anomaly
from alerts.tests.conftest import store_prices


def _recorded(sample_data, symbol):
    with (sample_data / "ohlcv" / "daily" / f"{symbol}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return (
        [datetime.fromisoformat(r["date"]).replace(tzinfo=UTC) for r in rows],
        [float(r["close"]) for r in rows],
        [float(r["volume"]) for r in rows],
    )


def test_the_detector_flags_the_covid_crash_as_btcs_largest_move(sample_data):
    flags = detect(*_recorded(sample_data, "BTC"))
    moves = sorted((f for f in flags if f.kind == "return"), key=lambda f: -abs(f.score))
    assert moves[0].at.date().isoformat() == "2020-03-12" and moves[0].value < -35
    # rare: well under 2% of days
    assert len({f.at for f in flags}) < 0.02 * len(_recorded(sample_data, "BTC")[0])


def test_the_detector_flags_dogecoins_january_2021_pump(sample_data):
    flags = detect(*_recorded(sample_data, "DOGE"))
    assert any(f.at.date().isoformat() == "2021-01-28" and f.value > 300 for f in flags)


def test_a_flat_series_flags_nothing():
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    times = [t0 + timedelta(days=i) for i in range(60)]
    assert detect(times, [100.0] * 60, [1.0] * 60) == []


def test_the_report_command_lists_flags_and_refuses_bad_input(sample_data, tmp_path, capsys):
    call_command("anomalies_report", "--data", str(sample_data / "ohlcv" / "daily"), "--top", "2")
    out = capsys.readouterr().out
    assert "BTC" in out and "2020-03-12" in out and "total:" in out
    with pytest.raises(CommandError):
        call_command("anomalies_report", "--data", str(tmp_path))


@pytest.mark.django_db
def test_the_service_stores_flags_idempotently_and_an_alert_subscribes(
    api_client, auth_client, user, coins
):
    from markets.contracts import CandleData
    from markets.services import candles_upsert

    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    candles = []
    for i in range(40):
        day = now - timedelta(days=39 - i)
        price = 100.0 * (1 + 0.01 * math.sin(i * 1.7)) if i < 39 else 60.0  # crash on the last day
        candles.append(CandleData(day, price, price + 1, price - 1, price, 1000.0 + i, "replay"))
    candles_upsert(asset=coins["bitcoin"], interval="1d", candles=candles)
    assert services.anomalies_detect(asset_ids=["bitcoin"], now=now) >= 1
    assert services.anomalies_detect(asset_ids=["bitcoin"], now=now) == 0
    flag = Anomaly.objects.get(kind="return", open_time=now)
    assert flag.open_time == now and flag.score < -6 and flag.source == "replay"

    body = api_client.get("/api/v1/anomalies?coin=BTC").json()
    assert body["count"] >= 1 and body["results"][0]["as_of"] and body["results"][0]["source"]
    assert api_client.get("/api/v1/anomalies?coin=ETH").json()["count"] == 0
    assert api_client.get("/api/v1/anomalies?kind=bogus").status_code == 400

    r = auth_client.post(
        "/api/v1/alerts",
        {"coin": "BTC", "kind": "anomaly", "params": {"min_score": 6, "kinds": ["return"]}},
        format="json",
    )
    assert r.status_code == 201, r.content
    store_prices({"bitcoin": 60.0})
    assert services.alerts_evaluate(asset_ids=["bitcoin"]).fired == 1
    assert "anomaly on" in AlertEvent.objects.get(notified=True).reason
