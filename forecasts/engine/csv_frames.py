"""Daily OHLCV CSV files as the engine's frames: ``<SYMBOL>.csv`` with
``date|timestamp,open,high,low,close,volume``, read by the shared ``core.ohlcv`` parser (the
one the CSV import of candles uses), each instant floored to its UTC day."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from core.ohlcv import (
    COLUMNS,
    DUPLICATE,
    EMPTY,
    HEADER,
    NO_ROWS,
    NUMBER,
    TIME,
    UNREADABLE,
    OhlcvProblem,
    OhlcvTable,
    open_text,
    parse_ohlcv,
)

from .forecaster import OHLCV_COLUMNS, EngineError

# what pandas.read_csv, this module's reader before core.ohlcv, said of an empty file
_EMPTY_FILE = "No columns to parse from file"


def read_ohlcv_csv(path: Path) -> pd.DataFrame:
    """Parse one daily OHLCV CSV into the engine's frame (UTC day index, float columns).

    Raises :class:`EngineError` with a readable message on a missing file, a missing column,
    unparsable dates or numbers, duplicate days or non-positive closes.
    """
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"{path}: file not found")
    with open_text(path) as stream:
        table = parse_ohlcv(stream, floor_to_day=True)
    _raise_first_problem(path, table)
    rows = table.rows
    frame = pd.DataFrame(
        {col: [getattr(r, col) for r in rows] for col in OHLCV_COLUMNS},
        index=pd.DatetimeIndex([r.open_time for r in rows], name="date"),
    )
    frame = frame.sort_index()
    if (frame["close"] <= 0).any():
        raise EngineError(f"{path}: non-positive close prices")
    return frame.astype(float)


def _raise_first_problem(path: Path, table: OhlcvTable) -> None:
    """One message for the file, in the order this reader has always checked."""
    if found := table.of_kind(UNREADABLE):
        raise EngineError(f"{path}: not a readable CSV ({found[0].value})")
    if table.of_kind(EMPTY):
        raise EngineError(f"{path}: not a readable CSV ({_EMPTY_FILE})")
    if table.of_kind(HEADER):
        need = ", ".join(
            (["date|timestamp"] if not table.time_column else []) + list(table.missing)
        )
        raise EngineError(f"{path}: missing columns: {need}")
    if table.of_kind(NO_ROWS):
        raise EngineError(f"{path}: no rows")
    if found := table.of_kind(TIME):
        raise EngineError(f"{path}: unparsable {table.time_column} on line(s) {_lines(found)}")
    if found := table.of_kind(NUMBER, COLUMNS):
        raise EngineError(f"{path}: non-numeric or empty values on line(s) {_lines(found)}")
    if found := table.of_kind(DUPLICATE):
        days = sorted(p.at for p in found if p.at is not None)
        shown = ", ".join(d.strftime("%Y-%m-%d") for d in days[:5])
        raise EngineError(f"{path}: duplicate days: {shown}")
    if table.problems:  # nothing else is checked here (no step, no row limit, no check)
        raise EngineError(f"{path}: {table.problems[0].message}")


def _lines(problems: list[OhlcvProblem]) -> str:
    lines = sorted({p.line for p in problems})
    return ", ".join(str(n) for n in lines[:5]) + (" ..." if len(lines) > 5 else "")


def load_csv_dir(directory: Path, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
    """``{SYMBOL: frame}`` from ``directory/<SYMBOL>.csv`` for each symbol."""
    directory = Path(directory)
    if not directory.is_dir():
        raise EngineError(f"{directory}: data directory not found")
    return {s: read_ohlcv_csv(directory / f"{s}.csv") for s in symbols}
