"""The one OHLCV CSV parser (``core.ohlcv``): headers, times and timezones, numbers, duplicates,
empty and unreadable files; the CSV import and the engine's frames both read through it."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime

import pytest

from core import ohlcv
from core.ohlcv import OhlcvRow, open_text, parse_ohlcv, parse_time

HEADER = "date,open,high,low,close,volume\n"
ROW = "2024-01-01,1,2,0.5,1.5,10\n"


def parse(text: str, **kwargs):  # type: ignore[no-untyped-def]
    return parse_ohlcv(io.StringIO(text, newline=""), **kwargs)


def kinds(table) -> list[tuple[int, str]]:  # type: ignore[no-untyped-def]
    return [(p.line, p.kind) for p in table.problems]


# --- a clean file ---------------------------------------------------------------------------


def test_a_clean_daily_file_gives_utc_rows_with_their_lines():
    table = parse(HEADER + ROW + "2024-01-02,1.5,3,1,2.5,20\n")
    assert table.problems == [] and table.row_count == 2
    assert table.time_column == "date" and table.header[0] == "date"
    assert table.rows == [
        OhlcvRow(2, datetime(2024, 1, 1, tzinfo=UTC), 1.0, 2.0, 0.5, 1.5, 10.0),
        OhlcvRow(3, datetime(2024, 1, 2, tzinfo=UTC), 1.5, 3.0, 1.0, 2.5, 20.0),
    ]


def test_blank_lines_are_skipped_and_lines_stay_physical():
    table = parse("\n" + HEADER + "\n" + ROW + " , ,,\n" + "2024-01-02,1,2,0.5,x,1\n")
    assert table.row_count == 2 and [r.line for r in table.rows] == [4]
    assert kinds(table) == [(6, ohlcv.NUMBER)]


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "date,open,high,low,close,volume",
        " Date , OPEN,High,low ,Close,Volume",
        "\ufeffdate,open,high,low,close,volume",  # a byte-order mark (Excel)
        "open,high,low,close,volume,date",  # any order
        "date,open,high,low,close,volume,trades,quote_volume",  # other columns ignored
        "symbol,close,volume,date,low,high,open",
    ],
)
def test_headers_in_any_order_case_and_spacing_are_read(header):
    cells = {"date": "2024-01-01", "open": "1", "high": "2", "low": "0.5", "close": "1.5"}
    cells["volume"] = "10"
    names = [h.strip().lower().lstrip("\ufeff") for h in header.split(",")]
    row = ",".join(cells.get(n, "x") for n in names)
    table = parse(f"{header}\n{row}\n")
    assert table.problems == []
    (got,) = table.rows
    assert (got.open, got.high, got.low, got.close, got.volume) == (1, 2, 0.5, 1.5, 10)


def test_the_first_column_names_the_time_column_else_date_wins():
    first = parse("timestamp,open,high,low,close,volume,date\n1704067200,1,2,0.5,1.5,1,x\n")
    assert first.time_column == "timestamp" and first.problems == []
    either = parse("open,high,low,close,volume,timestamp,date\n1,2,0.5,1.5,1,x,2024-01-01\n")
    assert either.time_column == "date" and either.problems == []


@pytest.mark.parametrize(
    ("header", "time_column", "missing"),
    [
        ("time,o,h,l,c,v", None, ("open", "high", "low", "close", "volume")),
        ("date,open,high,low,volume", "date", ("close",)),
        ("open,high,low,close,volume", None, ()),
        ("day,open,high,low,close,volume", None, ()),
    ],
)
def test_bad_headers_say_what_is_missing(header, time_column, missing):
    table = parse(f"{header}\n2024-01-01,1,2,0.5,1.5,1\n")
    assert kinds(table) == [(1, ohlcv.HEADER)] and table.rows == []
    assert (table.time_column, table.missing) == (time_column, missing)
    assert table.problems[0].message == (
        f"bad header {header!r}; expected date|timestamp,open,high,low,close,volume"
    )


@pytest.mark.parametrize("text", ["", "\n", "\n \n,,\n"])
def test_an_empty_file_is_one_problem_on_line_1(text):
    table = parse(text)
    assert kinds(table) == [(1, ohlcv.EMPTY)]
    assert table.problems[0].message.startswith("empty file (expected a header date|timestamp")


def test_a_header_without_rows_is_no_data_rows_on_line_2():
    table = parse(HEADER + "\n\n")
    assert kinds(table) == [(2, ohlcv.NO_ROWS)] and table.problems[0].message == "no data rows"


# --- times and timezones --------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:00:00",  # no offset: UTC
        "2024-01-01 00:00:00",
        "2024-01-01T02:00:00+02:00",
        "2023-12-31T19:00:00-05:00",
        "1704067200",  # epoch seconds
        "1704067200000",  # epoch milliseconds (Binance)
    ],
)
def test_timestamps_are_the_same_utc_instant_however_written(cell):
    assert parse_time(cell, column="timestamp") == datetime(2024, 1, 1, tzinfo=UTC)
    (row,) = parse(f"timestamp,open,high,low,close,volume\n{cell},1,2,0.5,1.5,1\n").rows
    assert row.open_time == datetime(2024, 1, 1, tzinfo=UTC)
    assert row.open_time.utcoffset().total_seconds() == 0


def test_a_date_column_holds_days_unless_floored_to_the_day():
    assert parse_time(" 2024-02-29 ", column="date") == datetime(2024, 2, 29, tzinfo=UTC)
    for cell in ("2024-01-01T12:00:00", "2024-01-31T23:30:00-05:00", "2024-13-01", "x", ""):
        with pytest.raises(ValueError):
            parse_time(cell, column="date")
    assert parse_time("2024-01-01T12:00:00", column="date", floor_to_day=True) == datetime(
        2024, 1, 1, tzinfo=UTC
    )
    # the day is the UTC day: 23:30 at -05:00 is 04:30 the next day in UTC
    assert parse_time("2024-01-31T23:30:00-05:00", column="date", floor_to_day=True) == datetime(
        2024, 2, 1, tzinfo=UTC
    )
    assert parse_time("2024-01-01T12:00:00Z", column="timestamp", floor_to_day=True) == datetime(
        2024, 1, 1, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("date", "2024-01-01T12:00:00"),
        ("date", "01/02/2024"),
        ("date", "1704067200"),
        ("timestamp", "yesterday"),
        ("timestamp", ""),
        ("timestamp", "99999999999999999999"),  # an epoch out of range
        ("timestamp", "2024-01-01T25:00:00Z"),
    ],
)
def test_unparseable_times_are_named_with_their_column(column, cell):
    table = parse(f"{column},open,high,low,close,volume\n{cell},1,2,0.5,1.5,1\n")
    (problem,) = table.problems
    assert (problem.line, problem.kind, problem.field, problem.value) == (2, "time", column, cell)
    assert problem.message == f"unparseable {column} {cell!r}"
    assert table.rows == []


# --- duplicates -----------------------------------------------------------------------------


def test_duplicates_name_the_line_first_seen_even_across_timezones():
    table = parse(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n"
        "2024-01-01T01:00:00Z,1,2,0.5,1.5,1\n"
        "2024-01-01T02:00:00+01:00,1,2,0.5,1.5,1\n"  # = line 3
        "1704067200,1,2,0.5,1.5,1\n"  # = line 2
    )
    assert kinds(table) == [(4, ohlcv.DUPLICATE), (5, ohlcv.DUPLICATE)]
    assert table.problems[0].message == (
        "duplicate timestamp 2024-01-01T02:00:00+01:00 (first seen on line 3)"
    )
    assert table.problems[1].at == datetime(2024, 1, 1, tzinfo=UTC)
    assert [r.line for r in table.rows] == [2, 3]


def test_floored_to_the_day_two_instants_of_one_day_are_duplicates():
    text = "timestamp,open,high,low,close,volume\n2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n"
    text += "2024-01-01T13:00:00Z,1,2,0.5,1.5,1\n"
    assert parse(text).problems == []
    table = parse(text, floor_to_day=True)
    assert kinds(table) == [(3, ohlcv.DUPLICATE)]
    assert table.problems[0].at == datetime(2024, 1, 1, tzinfo=UTC)


# --- numbers and short rows -----------------------------------------------------------------


@pytest.mark.parametrize("cell", ["abc", "", " ", "nan", "NaN", "inf", "-inf", "1,5", "0x10"])
def test_bad_numbers_are_named_with_their_column(cell):
    table = parse(HEADER + f'2024-01-01,1,2,0.5,"{cell}",1\n')
    (problem,) = table.problems
    assert (problem.line, problem.kind, problem.field) == (2, "number", "close")
    assert problem.message == f"unparseable number {cell!r}"
    assert table.rows == []


@pytest.mark.parametrize("cell", [" 1.5 ", "1e3", "-0", "1_000", "+2"])
def test_numbers_are_python_floats(cell):
    (row,) = parse(HEADER + f"2024-01-01,1,2,0.5,{cell},1\n").rows
    assert row.close == float(cell)


def test_every_bad_number_of_a_row_is_listed():
    table = parse(HEADER + "2024-01-01,a,b,0.5,1.5,c\n")
    assert [p.field for p in table.problems] == ["open", "high", "volume"]


def test_a_short_row_says_how_many_columns_it_needs():
    table = parse(HEADER + "2024-01-01,1,2,0.5\n" + ROW.replace("01,", "02,", 1))
    assert kinds(table) == [(2, ohlcv.COLUMNS)]
    assert table.problems[0].message == "expected 6 columns, got 4"
    wide = parse("close,volume,open,high,low,x,date\n1.5,1,1,2,0.5\n")
    assert wide.problems[0].message == "expected 7 columns, got 5"


# --- the caller's rules: alignment, row limit, check ----------------------------------------


def test_open_times_off_the_step_are_listed_and_the_row_still_checked():
    seen: list[int] = []

    def check(row: OhlcvRow) -> list[str]:
        seen.append(row.line)
        return ["high < low"] if row.high < row.low else []

    table = parse(
        "timestamp,open,high,low,close,volume\n"
        "2024-01-01T00:00:00Z,1,2,0.5,1.5,1\n"
        "2024-01-01T01:30:00Z,1,0.4,0.5,1.5,1\n",
        step=3600,
        step_name="1h",
        check=check,
    )
    assert seen == [2, 3]
    assert [(p.line, p.kind, p.message) for p in table.problems] == [
        (3, "alignment", "2024-01-01T01:30:00Z is not aligned to a 1h candle open"),
        (3, "invalid", "high < low"),
    ]
    assert [r.line for r in table.rows] == [2]


def test_a_row_limit_stops_the_reading():
    text = HEADER + "".join(f"2024-01-0{d},1,2,0.5,1.5,1\n" for d in range(1, 6))
    table = parse(text, max_rows=3, max_rows_name="SOME_SETTING")
    assert kinds(table) == [(5, ohlcv.TOO_MANY_ROWS)] and table.row_count == 4
    assert table.problems[0].message == "too many rows (limit SOME_SETTING=3)"
    assert parse(text, max_rows=3).problems[0].message == "too many rows (limit 3)"


# --- files: gzip, bytes that are not text ---------------------------------------------------


def test_open_text_reads_plain_and_gzip_files(tmp_path):
    plain, packed = tmp_path / "BTC.csv", tmp_path / "BTC.csv.gz"
    plain.write_text(HEADER + ROW)
    packed.write_bytes(gzip.compress((HEADER + ROW).encode()))
    for path in (plain, packed):
        with open_text(path) as stream:
            assert [r.close for r in parse_ohlcv(stream).rows] == [1.5]


def test_bytes_that_are_not_utf8_are_unreadable_not_a_crash(tmp_path):
    head = tmp_path / "a.csv"
    head.write_bytes(b"\xff\xfed\x00a\x00t\x00e\x00")
    with open_text(head) as stream:
        table = parse_ohlcv(stream)
    assert kinds(table) == [(1, ohlcv.UNREADABLE)]
    assert table.problems[0].message.startswith("unreadable header: 'utf-8' codec")
    body = tmp_path / "b.csv"  # good rows beyond the first read, then a byte that is not UTF-8
    rows = "".join(f"{1704067200 + 3600 * i},1,2,0.5,1.5,1\n" for i in range(3000))
    body.write_bytes(f"timestamp,open,high,low,close,volume\n{rows}".encode() + b"\xff\n")
    with open_text(body) as stream:
        table = parse_ohlcv(stream)
    assert kinds(table) == [(table.problems[0].line, ohlcv.UNREADABLE)]
    assert table.problems[0].line > 1000 and table.row_count > 1000
    assert table.problems[0].message.startswith("unreadable file: UnicodeDecodeError: ")


def test_a_broken_gzip_file_is_unreadable_not_a_crash(tmp_path):
    path = tmp_path / "BTC.csv.gz"
    path.write_bytes(gzip.compress((HEADER + ROW * 3).encode())[:-12])
    with open_text(path) as stream:
        table = parse_ohlcv(stream)
    assert table.problems and table.problems[-1].kind == ohlcv.UNREADABLE
    not_gzip = tmp_path / "ETH.csv.gz"
    not_gzip.write_bytes(b"date,open\n")
    with open_text(not_gzip) as stream:
        assert kinds(parse_ohlcv(stream)) == [(1, ohlcv.UNREADABLE)]
