"""CSV import of OHLCV files: validate the whole file first, then write it in one transaction.

Accepted: a file or a directory of ``<SYMBOL>.csv`` (or ``.csv.gz``) with the header
``date|timestamp,open,high,low,close,volume``. ``date`` is a UTC day (``2024-01-31``);
``timestamp`` is ISO-8601 (``2024-01-01T00:00:00Z``) or epoch seconds/milliseconds. The text is
parsed by ``core.ohlcv`` (the reader the forecasting engine uses too); here each row must also
be a valid candle aligned to the interval. A file with any bad row is rejected whole (nothing
of it written) with a report naming each row.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction

from core.ohlcv import OhlcvRow, open_text, parse_ohlcv
from markets.contracts import CandleData
from markets.models import Asset, Interval
from markets.selectors import INTERVAL_SECONDS, AssetNotFound, asset_get

from .assets import known_asset_register
from .candles import candle_problems, candles_upsert

MAX_LISTED_ERRORS = 200


@dataclass
class RowError:
    line: int  # 1-based line number in the file (the header is line 1)
    message: str
    field: str | None = None


@dataclass
class FileReport:
    file: str
    symbol: str
    interval: str
    asset_id: str | None = None
    rows: int = 0
    written: int = 0
    accepted: bool = False
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    first: str | None = None
    last: str | None = None

    def add(self, line: int, message: str, field_name: str | None = None) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_LISTED_ERRORS:
            self.errors.append(RowError(line, message, field_name))

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["errors_truncated"] = self.error_count > len(self.errors)
        return body

    def summary(self) -> str:
        if self.accepted:
            return f"{self.file}: OK, {self.written} candles written ({self.first} .. {self.last})"
        lines = [f"{self.file}: REJECTED ({self.error_count} problem(s), nothing written)"]
        lines += [
            f"  line {e.line}: {e.field + ': ' if e.field else ''}{e.message}" for e in self.errors
        ]
        if self.error_count > len(self.errors):
            lines.append(f"  ... and {self.error_count - len(self.errors)} more")
        return "\n".join(lines)


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.files) and all(f.accepted for f in self.files)

    @property
    def written(self) -> int:
        return sum(f.written for f in self.files)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "written": self.written,
            "files": [f.as_dict() for f in self.files],
        }


class ImportInputError(ValueError):
    """The path itself is unusable (missing, empty directory)."""


def symbol_from_name(name: str) -> str:
    base = Path(name).name
    stem = base.split(".", 1)[0]
    return stem.upper()


def _candle(row: OhlcvRow, source: str) -> CandleData:
    return CandleData(
        open_time=row.open_time,
        open=row.open,
        high=row.high,
        low=row.low,
        close=row.close,
        volume=row.volume,
        source=source,
    )


def validate_csv(
    stream: IO[str], *, name: str, interval: str, symbol: str, source: str = "csv"
) -> tuple[FileReport, list[CandleData]]:
    """Parse and check every row; returns the report and (only if the file is clean) candles."""
    report = FileReport(file=name, symbol=symbol, interval=interval)
    if interval not in Interval.values:
        report.add(0, f"unknown interval {interval!r}; use one of {', '.join(Interval.values)}")
        return report, []
    table = parse_ohlcv(
        stream,
        step=INTERVAL_SECONDS[interval],
        step_name=interval,
        max_rows=settings.MARKETS_IMPORT_MAX_ROWS,
        max_rows_name="MARKETS_IMPORT_MAX_ROWS",
        check=lambda row: candle_problems(_candle(row, source)),
    )
    report.rows = table.row_count
    for problem in table.problems:
        report.add(problem.line, problem.message, problem.field)
    if report.error_count:
        return report, []
    candles = [_candle(row, source) for row in table.rows]
    if candles:
        report.first = min(c.open_time for c in candles).isoformat()
        report.last = max(c.open_time for c in candles).isoformat()
    return report, candles


def _resolve_asset(symbol: str) -> Asset | None:
    try:
        return asset_get(symbol)
    except AssetNotFound:
        return known_asset_register(symbol=symbol)


def import_stream(
    stream: IO[str], *, name: str, interval: str, symbol: str, source: str = "csv"
) -> FileReport:
    """Validate one CSV stream, then write it whole (one transaction) or not at all."""
    symbol = symbol.upper()
    report, candles = validate_csv(
        stream, name=name, interval=interval, symbol=symbol, source=source
    )
    if report.error_count:
        return report
    with transaction.atomic():
        asset = _resolve_asset(symbol)
        if asset is None:
            report.add(0, f"unknown symbol {symbol!r}: register the asset first (sync_markets)")
            return report
        report.asset_id = asset.pk
        report.written = candles_upsert(asset=asset, interval=interval, candles=candles)
    report.accepted = True
    return report


def csv_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.is_file() and p.name.endswith((".csv", ".csv.gz"))
        )
        if not files:
            raise ImportInputError(f"{path} holds no .csv or .csv.gz files")
        return files
    if path.is_file():
        return [path]
    raise ImportInputError(f"{path} does not exist")


def import_ohlcv_path(
    *,
    path: Path,
    interval: str = Interval.D1,
    symbol: str | None = None,
    source: str = "csv",
    on_file: Callable[[FileReport], None] | None = None,
) -> ImportReport:
    """Import a file or a directory; each file is accepted or rejected on its own."""
    files = csv_files(path)
    if symbol and len(files) > 1:
        raise ImportInputError("--symbol only applies to a single file")
    report = ImportReport()
    for file in files:
        sym = symbol or symbol_from_name(file.name)
        with open_text(file) as stream:
            file_report = import_stream(
                stream, name=file.name, interval=interval, symbol=sym, source=source
            )
        report.files.append(file_report)
        if on_file:
            on_file(file_report)
    return report


def import_upload(
    *, data: bytes, name: str, interval: str = Interval.D1, symbol: str | None = None
) -> ImportReport:
    """The staff upload endpoint: same validation and report as the command."""
    if name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            report = FileReport(
                file=name, symbol=(symbol or symbol_from_name(name)), interval=interval
            )
            report.add(1, f"not a valid gzip file: {exc}")
            return ImportReport(files=[report])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        report = FileReport(file=name, symbol=(symbol or symbol_from_name(name)), interval=interval)
        report.add(1, "not UTF-8 text")
        return ImportReport(files=[report])
    file_report = import_stream(
        io.StringIO(text, newline=""),
        name=name,
        interval=interval,
        symbol=symbol or symbol_from_name(name),
    )
    return ImportReport(files=[file_report])
