"""Read daily OHLCV CSVs: `<SYMBOL>.csv` with `date|timestamp,open,high,low,close,volume`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from .forecaster import OHLCV_COLUMNS, EngineError


def read_ohlcv_csv(path: Path) -> pd.DataFrame:
    """Parse one daily OHLCV CSV into the engine's frame (UTC day index, float columns).

    Raises :class:`EngineError` with a readable message on a missing file, a missing column,
    unparsable dates or numbers, duplicate days or non-positive closes.
    """
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"{path}: file not found")
    try:
        raw = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise EngineError(f"{path}: not a readable CSV ({exc})") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    time_col = (
        "date" if "date" in raw.columns else "timestamp" if "timestamp" in raw.columns else ""
    )
    missing = [c for c in OHLCV_COLUMNS if c not in raw.columns]
    if not time_col or missing:
        need = ", ".join((["date|timestamp"] if not time_col else []) + missing)
        raise EngineError(f"{path}: missing columns: {need}")
    if raw.empty:
        raise EngineError(f"{path}: no rows")
    stamps = pd.to_datetime(raw[time_col], utc=True, errors="coerce")
    bad = raw.index[stamps.isna()]
    if len(bad):
        raise EngineError(f"{path}: unparsable {time_col} on line(s) {_lines(bad)}")
    frame = raw[list(OHLCV_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    bad = frame.index[frame.isna().any(axis=1)]
    if len(bad):
        raise EngineError(f"{path}: non-numeric or empty values on line(s) {_lines(bad)}")
    frame.index = pd.DatetimeIndex(stamps.dt.normalize(), name="date")
    frame = frame.sort_index()
    if frame.index.has_duplicates:
        dups = frame.index[frame.index.duplicated()].strftime("%Y-%m-%d")
        raise EngineError(f"{path}: duplicate days: {', '.join(dups[:5])}")
    if (frame["close"] <= 0).any():
        raise EngineError(f"{path}: non-positive close prices")
    return frame.astype(float)


def _lines(index: pd.Index) -> str:
    # +2: header line and 1-based numbering
    shown = ", ".join(str(int(i) + 2) for i in list(index)[:5])
    return shown + (" ..." if len(index) > 5 else "")


def load_csv_dir(directory: Path, symbols: Sequence[str]) -> dict[str, pd.DataFrame]:
    """``{SYMBOL: frame}`` from ``directory/<SYMBOL>.csv`` for each symbol."""
    directory = Path(directory)
    if not directory.is_dir():
        raise EngineError(f"{directory}: data directory not found")
    return {s: read_ohlcv_csv(directory / f"{s}.csv") for s in symbols}
