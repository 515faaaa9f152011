"""Daily OHLCV CSVs as engine frames (``forecasts.engine.csv_frames`` over ``core.ohlcv``): the
real files read exactly, every bad file refused with one readable message naming its lines."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from forecasts.engine import EngineError
from forecasts.engine.csv_frames import load_csv_dir, read_ohlcv_csv

from .conftest import make_ohlcv

HEADER = "date,open,high,low,close,volume\n"


def test_the_real_daily_files_read_exactly_as_pandas_reads_them(sample_data):
    for path in sorted((sample_data / "ohlcv" / "daily").glob("*.csv")):
        frame = read_ohlcv_csv(path)
        expected = pd.read_csv(path, index_col="date")
        expected.index = pd.DatetimeIndex(pd.to_datetime(expected.index, utc=True), name="date")
        pd.testing.assert_frame_equal(frame, expected.astype(float), check_exact=True)
        assert str(frame.index.tz) == "UTC" and frame.index.is_monotonic_increasing


def test_a_frame_written_by_pandas_reads_back_unchanged(tmp_path):
    ohlcv = make_ohlcv(50)
    for name, kwargs in [("plain", {}), ("days", {"date_format": "%Y-%m-%d"})]:
        ohlcv.to_csv(tmp_path / f"{name}.csv", index_label="date", **kwargs)
        back = read_ohlcv_csv(tmp_path / f"{name}.csv")
        pd.testing.assert_frame_equal(back, ohlcv, check_freq=False, check_names=False)
        assert back.index.name == "date"


def test_timestamps_in_any_offset_are_floored_to_their_utc_day_and_sorted(tmp_path):
    path = tmp_path / "X.csv"
    path.write_text(
        "Timestamp,Open,High,Low,Close,Volume,trades\n"
        "2024-01-03T10:00:00Z,3,3,3,3,3,7\n"
        "2024-01-01T23:30:00-05:00,2,2,2,2,2,7\n"  # 04:30 UTC on the 2nd
        "1704067200000,1,1,1,1,1,7\n"  # epoch ms: 2024-01-01
    )
    frame = read_ohlcv_csv(path)
    assert list(frame.index.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert list(frame["close"]) == [1.0, 2.0, 3.0] and list(frame.columns) == [
        "open",
        "high",
        "low",
        "close",
        "volume",
    ]


def test_a_gzip_file_reads_too(tmp_path):
    path = tmp_path / "X.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "2024-01-01,1,2,0.5,1.5,1\n").encode()))
    assert list(read_ohlcv_csv(path)["close"]) == [1.5]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not a readable CSV (No columns to parse from file)"),
        (b"\xff\xfe\x00\x01", "not a readable CSV ('utf-8' codec can't decode"),
        ("date,open,high,low,volume\n2022-01-01,1,2,0.5,3\n", "missing columns: close"),
        ("when,open,high,low,close\n", "missing columns: date|timestamp, volume"),
        (HEADER, "no rows"),
        (HEADER + "\n\n", "no rows"),
        (
            HEADER + "2022-01-01,1,2,0.5,1,3\n2022-13-01,1,2,0.5,1,3\n",
            "unparsable date on line(s) 3",
        ),
        (
            "timestamp,open,high,low,close,volume\nsoon,1,2,0.5,1,3\n",
            "unparsable timestamp on line(s) 2",
        ),
        (HEADER + "2022-01-01,1,2,0.5,oops,3\n", "non-numeric or empty values on line(s) 2"),
        (HEADER + "2022-01-01,1,2,0.5,,3\n2022-01-02,1,2\n", "values on line(s) 2, 3"),
        (
            HEADER + "".join(f"2022-01-0{d},1,2,0.5,x,3\n" for d in range(1, 8)),
            "non-numeric or empty values on line(s) 2, 3, 4, 5, 6 ...",
        ),
        (
            HEADER + "2022-01-02,1,2,0.5,1,3\n2022-01-01,1,2,0.5,1,3\n2022-01-02,1,2,0.5,1,3\n",
            "duplicate days: 2022-01-02",
        ),
        (
            "timestamp,open,high,low,close,volume\n"
            "2022-01-01T01:00:00Z,1,2,0.5,1,3\n2022-01-01T02:00:00Z,1,2,0.5,1,3\n",
            "duplicate days: 2022-01-01",
        ),
        (HEADER + "2022-01-01,1,2,0.5,0,3\n", "non-positive close prices"),
    ],
)
def test_bad_files_are_refused_with_one_readable_message(tmp_path, content, message):
    path = tmp_path / "AAA.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(EngineError) as caught:
        read_ohlcv_csv(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_the_first_problem_kind_wins_in_a_fixed_order(tmp_path):
    path = tmp_path / "AAA.csv"
    path.write_text(HEADER + "2022-01-01,1,2,0.5,x,3\n2022-01-01,1,2,0.5,1,3\nnever,1,2,0.5,1,3\n")
    with pytest.raises(EngineError, match=r"unparsable date on line\(s\) 4$"):
        read_ohlcv_csv(path)


def test_missing_files_and_directories(tmp_path):
    with pytest.raises(EngineError, match=r"ZZZ\.csv: file not found"):
        load_csv_dir(tmp_path, ["ZZZ"])
    with pytest.raises(EngineError, match="data directory not found"):
        load_csv_dir(tmp_path / "nope", ["BTC"])
