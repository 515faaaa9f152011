"""The one reader of OHLCV CSV text: the CSV import of candles (``markets``) and the forecasting
engine's daily frames (``forecasts.engine.csv_frames``) both parse through ``parse_ohlcv``.

Accepted (the union of what both callers took):

- a header naming a time column, ``date`` or ``timestamp`` (the first column if it is one of
  them, else ``date``, else ``timestamp``), and ``open, high, low, close, volume``; in any
  order, any case, spaces around names ignored, other columns ignored, a UTF-8 byte-order mark
  and blank lines before the header skipped;
- ``date``: a UTC day (``2024-01-31``); ``timestamp``: ISO-8601 (``2024-01-01T00:00:00Z``, an
  offset is converted to UTC, none means UTC) or epoch seconds/milliseconds. With
  ``floor_to_day`` (daily frames) a ``date`` may also be any ISO-8601 instant, and every
  instant is floored to its UTC day;
- finite numbers (``float()`` syntax); blank lines are skipped, cells beyond the needed columns
  ignored.

Nothing is raised for bad content: every problem is listed with its 1-based line (the header
is line 1, the line after the last row for a file that breaks off) and a ``kind``; its
``message`` is the CSV import's wording, and callers that word things their own way (the
engine) read ``kind``, ``value`` and ``at``. No Django: the engine is Django-free.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
TIME_COLUMNS = ("date", "timestamp")
EXPECTED_HEADER = "date|timestamp,open,high,low,close,volume"

# Problem kinds, in the order a file meets them.
EMPTY = "empty"  # no header at all
UNREADABLE = "unreadable"  # not text / not CSV (the header, or a line further on)
HEADER = "header"  # a time column or a price column is missing
NO_ROWS = "no_rows"  # a header and nothing else
TOO_MANY_ROWS = "too_many_rows"
COLUMNS = "columns"  # a row shorter than the header's needed columns
TIME = "time"  # an unparseable date/timestamp
DUPLICATE = "duplicate"  # the same instant (or day, with floor_to_day) as an earlier row
ALIGNMENT = "alignment"  # not on a candle open of ``step`` seconds
NUMBER = "number"  # not a finite number
INVALID = "invalid"  # refused by the caller's ``check``


@dataclass(frozen=True)
class OhlcvRow:
    line: int
    open_time: datetime  # UTC
    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class OhlcvProblem:
    line: int
    kind: str
    message: str
    field: str | None = None  # the column, when one is to blame
    value: str | None = None  # the raw cell (time problems) or the exception's text (unreadable)
    at: datetime | None = None  # the parsed instant (duplicates)


@dataclass
class OhlcvTable:
    """What a CSV held: the clean rows, and every problem found (clean only if none)."""

    header: tuple[str, ...] = ()
    time_column: str | None = None
    missing: tuple[str, ...] = ()  # the price columns the header lacks
    row_count: int = 0  # data rows read (blank lines not counted)
    rows: list[OhlcvRow] = field(default_factory=list)
    problems: list[OhlcvProblem] = field(default_factory=list)

    def add(
        self,
        line: int,
        kind: str,
        message: str,
        *,
        field: str | None = None,
        value: str | None = None,
        at: datetime | None = None,
    ) -> None:
        self.problems.append(OhlcvProblem(line, kind, message, field, value, at))

    def of_kind(self, *kinds: str) -> list[OhlcvProblem]:
        return [p for p in self.problems if p.kind in kinds]


_READ_ERRORS = (csv.Error, UnicodeDecodeError, EOFError, OSError)


def open_text(path: Path) -> IO[str]:
    """A CSV file (``.gz`` decompressed) as UTF-8 text for ``parse_ohlcv``."""
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def parse_time(text: str, *, column: str, floor_to_day: bool = False) -> datetime:
    """A cell of the ``date``/``timestamp`` column as a UTC instant; ``ValueError`` if not one
    (``OverflowError``/``OSError`` for an epoch out of range)."""
    text = text.strip()
    if column == "date":
        try:
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            if not floor_to_day:
                raise
        parsed = _iso(text)
    elif text.lstrip("-").isdigit():
        value = int(text)
        if abs(value) >= 10**11:  # milliseconds (Binance style)
            value //= 1000
        parsed = datetime.fromtimestamp(value, tz=UTC)
    else:
        parsed = _iso(text)
    if floor_to_day:
        parsed = parsed.replace(hour=0, minute=0, second=0, microsecond=0)
    return parsed


def _iso(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_number(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def parse_ohlcv(
    lines: Iterable[str],
    *,
    floor_to_day: bool = False,
    step: int | None = None,
    step_name: str = "",
    max_rows: int | None = None,
    max_rows_name: str = "",
    check: Callable[[OhlcvRow], Sequence[str]] | None = None,
) -> OhlcvTable:
    """Parse and check every row of CSV text (a text stream opened with ``newline=""``).

    ``step``: open times must be multiples of it (seconds; ``step_name`` names it in the
    message). ``max_rows``: more data rows than this is a problem and stops the reading
    (``max_rows_name``: the setting to name). ``check(row)``: the caller's own rules, as
    messages (e.g. ``high >= low``); a row they refuse is left out.
    """
    table = OhlcvTable()
    reader = csv.reader(lines)
    line = 0
    header: list[str] = []
    try:
        while not any(cell.strip() for cell in header):
            header = next(reader)
            line += 1
    except StopIteration:
        table.add(1, EMPTY, f"empty file (expected a header {EXPECTED_HEADER})")
        return table
    except _READ_ERRORS as exc:
        table.add(line + 1, UNREADABLE, f"unreadable header: {exc}", value=str(exc))
        return table
    names = [h.strip().lower() for h in header]
    names[0] = names[0].lstrip("\ufeff").strip()
    table.header = tuple(names)
    if names[0] in TIME_COLUMNS:
        table.time_column = names[0]
    else:
        table.time_column = next((c for c in TIME_COLUMNS if c in names), None)
    table.missing = tuple(c for c in PRICE_COLUMNS if c not in names)
    if table.time_column is None or table.missing:
        table.add(line, HEADER, f"bad header {','.join(names)!r}; expected {EXPECTED_HEADER}")
        return table
    rules = _Rules(
        kind=table.time_column,
        time_index=names.index(table.time_column),
        prices=tuple(names.index(c) for c in PRICE_COLUMNS),
        floor_to_day=floor_to_day,
        step=step or 0,
        step_name=step_name,
    )
    limit = f"{max_rows_name}={max_rows}" if max_rows_name else str(max_rows)
    seen: dict[datetime, int] = {}
    try:
        for cells in reader:
            line += 1
            if not cells or all(not c.strip() for c in cells):
                continue
            table.row_count += 1
            if max_rows is not None and table.row_count > max_rows:
                table.add(line, TOO_MANY_ROWS, f"too many rows (limit {limit})")
                break
            if len(cells) < rules.width:
                table.add(line, COLUMNS, f"expected {rules.width} columns, got {len(cells)}")
                continue
            before = len(table.problems)
            row = _parse_row(table, cells, line, rules, seen)
            if row is None:
                continue
            for message in check(row) if check is not None else ():
                table.add(line, INVALID, message)
            if len(table.problems) == before:
                table.rows.append(row)
    except _READ_ERRORS as exc:
        table.add(
            line + 1,
            UNREADABLE,
            f"unreadable file: {exc.__class__.__name__}: {exc}",
            value=str(exc),
        )
    if table.row_count == 0 and not table.problems:
        table.add(2, NO_ROWS, "no data rows")
    return table


@dataclass(frozen=True)
class _Rules:
    kind: str  # the time column's name
    time_index: int
    prices: tuple[int, ...]  # the indexes of PRICE_COLUMNS
    floor_to_day: bool
    step: int  # 0: no alignment rule
    step_name: str

    @property
    def width(self) -> int:
        return max(self.time_index, *self.prices) + 1


def _parse_row(
    table: OhlcvTable, cells: list[str], line: int, rules: _Rules, seen: dict[datetime, int]
) -> OhlcvRow | None:
    """The row, or None after listing why not (a bad time, a duplicate, a bad number); an
    unaligned row is listed and still returned, for the caller's ``check``."""
    kind, raw = rules.kind, cells[rules.time_index]
    try:
        open_time = parse_time(raw, column=kind, floor_to_day=rules.floor_to_day)
    except (ValueError, OverflowError, OSError):
        table.add(line, TIME, f"unparseable {kind} {raw!r}", field=kind, value=raw)
        return None
    if open_time in seen:
        message = f"duplicate {kind} {raw} (first seen on line {seen[open_time]})"
        table.add(line, DUPLICATE, message, field=kind, value=raw, at=open_time)
        return None
    seen[open_time] = line
    if rules.step and int(open_time.timestamp()) % rules.step:
        message = f"{raw} is not aligned to a {rules.step_name} candle open"
        table.add(line, ALIGNMENT, message, field=kind, value=raw)
    values: list[float] = []
    for col, i in zip(PRICE_COLUMNS, rules.prices, strict=True):
        try:
            values.append(parse_number(cells[i]))
        except ValueError:
            table.add(line, NUMBER, f"unparseable number {cells[i]!r}", field=col)
    if len(values) < len(PRICE_COLUMNS):
        return None
    return OhlcvRow(line, open_time, *values)
