"""An alert's events as CSV (streamed, every event of a bounded range) and Excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from alerts.models import Alert, AlertEvent

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 7, 5, 12, tzinfo=UTC)


@pytest.fixture
def alert(user, coins):
    alert = Alert.objects.create(
        user=user, asset_id="bitcoin", kind="greater_than", params={"value": 100}, name="moon"
    )
    for i in range(3):  # 0, 10 and 400 days ago (hand-made transitions)
        AlertEvent.objects.create(
            alert=alert,
            asset_id="bitcoin",
            from_state="normal",
            to_state="firing",
            observation_key=f"quote:{i}",
            value=150.0 + i,
            reason="=cmd|' /C calc'!A0" if i == 1 else "price 150 > 100",
            values={"price": 150.0 + i},
            source="replay",
            as_of=NOW,
            created_at=NOW - timedelta(days=(0, 10, 400)[i]),
        )
    return alert


def _url(alert: Alert) -> str:
    return f"/api/v1/alerts/{alert.pk}/events"


def test_events_csv_streams_the_range_newest_first_with_formulas_quoted(auth_client, alert):
    r = auth_client.get(_url(alert), {"format": "csv", "end": NOW.isoformat()})
    assert r.status_code == 200 and r.streaming
    assert r["Content-Disposition"] == f'attachment; filename="alert-{alert.pk}-events.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
    # default range: the 366 days before end (exclusive), so the 400-day-old event is out
    assert [row["observation_key"] for row in rows] == ["quote:1"]
    assert rows[0]["reason"].startswith("'=")  # a spreadsheet will not run it
    assert rows[0]["values"] == '{"price": 151.0}'

    r = auth_client.get(
        _url(alert),
        {
            "format": "csv",
            "start": (NOW - timedelta(days=30)).isoformat(),
            "end": NOW + timedelta(1),
        },
    )
    keys = [
        row["observation_key"]
        for row in csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode()))
    ]
    assert keys == ["quote:0", "quote:1"]


def test_events_xlsx_and_json_share_the_range(auth_client, alert):
    params = {
        "start": (NOW - timedelta(days=500)).isoformat(),
        "end": (NOW - timedelta(days=200)).isoformat(),
    }
    r = auth_client.get(_url(alert), {**params, "format": "xlsx"})
    assert r.status_code == 200
    header, *values = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert header[0] == "id" and len(values) == 1 and values[0][6] == 152.0
    assert auth_client.get(_url(alert), params).json()["count"] == 1


def test_unbounded_or_inverted_ranges_and_unknown_formats_are_400s(auth_client, alert):
    def attr(**params):
        r = auth_client.get(_url(alert), params)
        assert r.status_code == 400 and r["Content-Type"] == "application/json"
        return r.json()["errors"][0]["attr"]

    assert attr(format="csv", start="2020-01-01T00:00:00Z", end="2025-01-01T00:00:00Z") == "start"
    assert attr(format="csv", start="2025-01-02T00:00:00Z", end="2025-01-01T00:00:00Z") == "start"
    assert attr(format="ods") == "format"


def test_another_users_alert_events_are_a_404_in_every_format(api_client, other_user, alert):
    api_client.force_authenticate(other_user)
    for fmt in ("json", "csv", "xlsx"):
        assert api_client.get(_url(alert), {"format": fmt}).status_code == 404
