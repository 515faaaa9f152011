"""CSV import: real files land with exact values; a bad file is rejected whole, rows named."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from markets.models import Asset, Candle
from markets.services import import_ohlcv_path

pytestmark = pytest.mark.django_db

HEADER = "date,open,high,low,close,volume\n"
BAD_FILE = (
    HEADER
    + "2024-01-01,1,2,0.5,1.5,10\n"  # line 2: fine
    + "2024-01-02,1,0.5,2,1.5,10\n"  # line 3: high < low
    + "2024-01-03,abc,2,0.5,1.5,10\n"  # line 4: unparseable
    + "2024-01-04,1,2,0.5,1.5,-3\n"  # line 5: negative volume
    + "2024-01-04,1,2,0.5,1.5,3\n"  # line 6: duplicate date
    + "2024-01-06,1,1.2,0.5,1.5,3\n"  # line 7: high < close
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_real_daily_files_import_with_exact_values(sample_data):  # type: ignore[no-untyped-def]
    daily = sample_data / "ohlcv" / "daily"
    report = import_ohlcv_path(path=daily, interval="1d")
    assert report.ok, [f.summary() for f in report.files if not f.accepted]
    for file in sorted(daily.glob("*.csv")):
        rows = _rows(file)
        asset = Asset.objects.get(symbol=file.stem)
        stored = list(
            Candle.objects.filter(asset=asset, interval="1d")
            .order_by("open_time")
            .values_list("open_time", "open", "high", "low", "close", "volume")
        )
        assert len(stored) == len(rows), file.name
        for row, got in ((rows[0], stored[0]), (rows[-1], stored[-1])):
            expected = (
                datetime.strptime(row["date"], "%Y-%m-%d").replace(tzinfo=UTC),
                *(float(row[k]) for k in ("open", "high", "low", "close", "volume")),
            )
            assert got == expected, file.name
    btc = Asset.objects.get(pk="bitcoin")
    first = Candle.objects.filter(asset=btc, interval="1d").order_by("open_time").first()
    # Binance's first BTCUSDT daily candle, as documented in the data README.
    assert (first.open, first.high, first.low, first.close) == (4261.48, 4485.39, 4200.74, 4285.08)
    assert btc.binance_symbol == "BTCUSDT" and btc.coingecko_id == "bitcoin"


def test_history_endpoint_returns_the_imported_candles(sample_data, api_client):  # type: ignore[no-untyped-def]
    report = import_ohlcv_path(path=sample_data / "ohlcv" / "daily" / "BTC.csv", interval="1d")
    assert report.ok
    rows = _rows(sample_data / "ohlcv" / "daily" / "BTC.csv")
    response = api_client.get(
        "/api/v1/cryptocurrencies/bitcoin/history",
        {"interval": "1d", "start": "2017-08-17", "end": "2017-08-19"},
    )
    assert response.status_code == 200
    got = response.json()["results"]
    assert [c["open_time"][:10] for c in got] == ["2017-08-17", "2017-08-18", "2017-08-19"]
    for c, row in zip(got, rows[:3], strict=True):
        assert c["open"] == float(row["open"]) and c["close"] == float(row["close"])
        assert c["volume"] == float(row["volume"])


def test_history_cursor_pages_walk_every_candle(sample_data, api_client):  # type: ignore[no-untyped-def]
    import_ohlcv_path(path=sample_data / "ohlcv" / "daily" / "DOT.csv", interval="1d")
    seen, url, params = [], "/api/v1/cryptocurrencies/DOT/history", {"page_size": 500}
    while url:
        body = api_client.get(url, params).json()
        seen += [c["open_time"] for c in body["results"]]
        url, params = body["next"], None
    assert len(seen) == len(_rows(sample_data / "ohlcv" / "daily" / "DOT.csv"))
    assert seen == sorted(seen)


def test_hourly_gzip_file_imports_as_1h(sample_data):  # type: ignore[no-untyped-def]
    report = import_ohlcv_path(path=sample_data / "ohlcv" / "hourly" / "ETH.csv.gz", interval="1h")
    assert report.ok
    assert Candle.objects.filter(asset_id="ethereum", interval="1h").count() == 13248


def test_bad_file_is_rejected_whole_with_each_row_named(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "BTC.csv"
    path.write_text(BAD_FILE)
    report = import_ohlcv_path(path=path, interval="1d")
    assert not report.ok
    file = report.files[0]
    lines = sorted({e.line for e in file.errors})
    assert lines == [3, 4, 5, 6, 7]
    messages = " | ".join(e.message for e in file.errors)
    assert "high 0.5 < low 2.0" in messages
    assert "unparseable number 'abc'" in messages
    assert "volume is negative" in messages
    assert "duplicate date 2024-01-04" in messages
    assert "high 1.2 < max(open, close) 1.5" in messages
    assert Candle.objects.count() == 0  # not even the good line 2


def test_command_exits_nonzero_and_prints_the_report(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "BTC.csv"
    path.write_text(BAD_FILE)
    out = io.StringIO()
    with pytest.raises(CommandError, match="rejected"):
        call_command("import_ohlcv", str(path), stdout=out)
    text = out.getvalue()
    assert "REJECTED" in text and "line 3" in text and "line 7" in text
    assert Candle.objects.count() == 0


def test_command_rejects_a_missing_path():
    with pytest.raises(CommandError, match="does not exist"):
        call_command("import_ohlcv", "/nonexistent/dir", stdout=io.StringIO())


def test_directory_import_keeps_good_files_and_rejects_bad_ones(tmp_path):  # type: ignore[no-untyped-def]
    (tmp_path / "ETH.csv").write_text(
        HEADER + "2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n"
    )
    (tmp_path / "BTC.csv").write_text(BAD_FILE)
    report = import_ohlcv_path(path=tmp_path, interval="1d")
    accepted = {f.file: f.accepted for f in report.files}
    assert accepted == {"BTC.csv": False, "ETH.csv": True}
    assert Candle.objects.filter(asset_id="ethereum").count() == 2
    assert Candle.objects.filter(asset_id="bitcoin").count() == 0


def test_reimport_is_idempotent_and_updates_in_place(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "LTC.csv"
    path.write_text(HEADER + "2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1.5,3,1,2,20\n")
    import_ohlcv_path(path=path)
    ids = set(Candle.objects.values_list("pk", flat=True))
    import_ohlcv_path(path=path)
    assert set(Candle.objects.values_list("pk", flat=True)) == ids
    path.write_text(HEADER + "2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1.5,3,1,2.5,25\n")
    import_ohlcv_path(path=path)
    last = Candle.objects.get(open_time=datetime(2024, 1, 2, tzinfo=UTC))
    assert (last.close, last.volume) == (2.5, 25.0)
    assert Candle.objects.count() == 2


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("", "empty file"),
        ("time,o,h,l,c,v\n2024-01-01,1,2,0.5,1.5,1\n", "bad header"),
        (HEADER, "no data rows"),
        (HEADER + "2024-01-01T12:00:00,1,2,0.5,1.5,1\n", "unparseable date"),
        (HEADER + "2024-01-01,1,2,0.5\n", "expected 6 columns"),
        (HEADER + "2024-01-01,nan,2,0.5,1.5,1\n", "unparseable number"),
    ],
)
def test_malformed_files_are_reported(tmp_path, content, needle):  # type: ignore[no-untyped-def]
    path = tmp_path / "BTC.csv"
    path.write_text(content)
    report = import_ohlcv_path(path=path)
    assert not report.ok
    assert needle in report.files[0].summary()


def test_timestamp_files_must_align_to_the_interval(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "BTC.csv"
    path.write_text(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n2024-01-01T01:30:00Z,1,2,0.5,1.5,1\n"
    )
    report = import_ohlcv_path(path=path, interval="1h")
    assert [e.line for e in report.files[0].errors] == [3]
    assert "not aligned" in report.files[0].errors[0].message


def test_unknown_symbol_is_refused_not_guessed(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "NOPE.csv"
    path.write_text(HEADER + "2024-01-01,1,2,0.5,1.5,10\n")
    report = import_ohlcv_path(path=path)
    assert not report.ok and "unknown symbol 'NOPE'" in report.files[0].summary()
    assert Candle.objects.count() == 0


# --- the staff upload endpoint ------------------------------------------------------------


def _upload(client, content: str, name: str = "BTC.csv", **data):  # type: ignore[no-untyped-def]
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return client.post(
        "/api/v1/cryptocurrencies/import", {"file": file, **data}, format="multipart"
    )


def test_upload_endpoint_imports_a_good_file(staff_client):  # type: ignore[no-untyped-def]
    response = _upload(staff_client, HEADER + "2024-01-01,1,2,0.5,1.5,10\n", interval="1d")
    assert response.status_code == 201
    body = response.json()
    assert body["ok"] is True and body["written"] == 1
    assert body["files"][0]["asset_id"] == "bitcoin"


def test_upload_endpoint_answers_400_with_the_report(staff_client):  # type: ignore[no-untyped-def]
    response = _upload(staff_client, BAD_FILE)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error" and body["errors"][0]["attr"] == "file"
    assert {e["line"] for e in body["report"]["files"][0]["errors"]} == {3, 4, 5, 6, 7}
    assert any("line 3" in e["detail"] for e in body["errors"])
    assert Candle.objects.count() == 0


def test_upload_endpoint_validates_its_parameters(staff_client):  # type: ignore[no-untyped-def]
    response = _upload(staff_client, HEADER, interval="2d")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "interval"


def test_upload_endpoint_refuses_anonymous_with_401(api_client):  # type: ignore[no-untyped-def]
    assert _upload(api_client, HEADER).status_code == 401


def test_upload_endpoint_refuses_non_staff_with_403(auth_client):  # type: ignore[no-untyped-def]
    assert _upload(auth_client, HEADER).status_code == 403


def test_upload_endpoint_refuses_an_oversized_file(staff_client, settings):  # type: ignore[no-untyped-def]
    settings.MARKETS_IMPORT_MAX_UPLOAD_BYTES = 10
    response = _upload(staff_client, HEADER + "2024-01-01,1,2,0.5,1.5,10\n")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "file"
    assert Candle.objects.count() == 0


def test_the_shared_parser_also_takes_reordered_columns_and_a_bom(tmp_path):  # type: ignore[no-untyped-def]
    """The engine's reader took columns in any order: since both read through core.ohlcv, so
    does the import (the values land in the right fields)."""
    path = tmp_path / "BTC.csv"
    path.write_text(
        "\ufeffClose,Volume,Date,Open,High,Low,trades\n1.5,10,2024-01-01,1,2,0.5,7\n",
        encoding="utf-8",
    )
    report = import_ohlcv_path(path=path, interval="1d")
    assert report.ok, report.files[0].summary()
    candle = Candle.objects.get(asset_id="bitcoin")
    assert (candle.open, candle.high, candle.low, candle.close, candle.volume) == (
        1.0,
        2.0,
        0.5,
        1.5,
        10.0,
    )
    assert candle.open_time == datetime(2024, 1, 1, tzinfo=UTC)


def test_more_rows_than_the_limit_is_refused_naming_the_setting(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.MARKETS_IMPORT_MAX_ROWS = 2
    path = tmp_path / "BTC.csv"
    path.write_text(HEADER + "".join(f"2024-01-0{d},1,2,0.5,1.5,10\n" for d in range(1, 5)))
    report = import_ohlcv_path(path=path)
    assert not report.ok and [e.line for e in report.files[0].errors] == [4]
    assert "too many rows (limit MARKETS_IMPORT_MAX_ROWS=2)" in report.files[0].summary()
    assert Candle.objects.count() == 0


def test_a_broken_gzip_file_is_rejected_with_a_report(tmp_path):  # type: ignore[no-untyped-def]
    import gzip

    (tmp_path / "BTC.csv.gz").write_bytes(b"date,open,high,low,close,volume\n")  # not gzip
    (tmp_path / "ETH.csv.gz").write_bytes(
        gzip.compress((HEADER + "2024-01-01,1,2,0.5,1.5,10\n").encode())[:-20]  # cut short
    )
    report = import_ohlcv_path(path=tmp_path)
    assert [f.accepted for f in report.files] == [False, False]
    assert "unreadable header" in report.files[0].summary()
    assert "unreadable" in report.files[1].summary() and report.files[1].error_count == 1
    assert Candle.objects.count() == 0
