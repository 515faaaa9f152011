"""Walk-forward backtests of forecasting models against naive, for every entry point.

``backtest_request`` validates the options (``manage.py backtest``'s, as keyword arguments;
the messages name the command's options), ``backtest_run`` loads the daily candles (a
directory of ``<SYMBOL>.csv`` or the database), runs the walk-forward and writes
``report.json`` (every raw forecast, the metrics and the config), ``<stem>.md`` (the summary
table), PNG plots next to it and optionally ``<stem>.pdf``; ``backtest_merge`` merges reports
of the same symbols and period run with different models. ``backtest_enqueue`` sends a
validated request to the ``forecasts.backtest`` task on the training queue
(``FORECAST_TRAINING_QUEUE``). Bad input is an ``EngineError`` with a readable message.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from django.conf import settings
from django.db import transaction

from core.enqueue import task_send_on_commit
from forecasts.engine import MODEL_TYPES, EngineError
from forecasts.engine.backtest import AUTO, BacktestConfig, run_backtest
from forecasts.engine.csv_frames import load_csv_dir
from forecasts.engine.report import (
    backtest_report_pdf,
    markdown_summary,
    merge_reports,
    model_params_from,
    parse_int_list,
    parse_refit,
    write_plots,
)
from markets import selectors as market_selectors

TASK = "forecasts.backtest"
DEFAULT_AUTO_CANDIDATES = "naive,drift,arima,ets,lightgbm"


class _Counter(Protocol):
    def update(self, n: int = 1) -> Any: ...


#: ``progress(total)`` opens a counter of the walk-forward's steps (origins x models), e.g. a
#: tqdm bar: ``core.progress.progress_counter``
Progress = Callable[[int], AbstractContextManager[_Counter]]


def default_out() -> Path:
    return Path(settings.VAR_DIR) / "backtest" / "report.json"


@dataclass(frozen=True)
class BacktestRequest:
    """A validated backtest; ``options`` are the keyword arguments it was made from (JSON),
    which is what the task is sent."""

    symbols: tuple[str, ...]
    models: tuple[str, ...]
    config: BacktestConfig
    data: str | None  # a directory of <SYMBOL>.csv, or None: the database's daily candles
    out: Path
    plots: bool
    pdf: bool
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BacktestOutcome:
    """What a run wrote (``files``: plots, then the PDF) and how long it took."""

    out: Path
    markdown: Path
    files: list[Path]
    forecasts: int
    symbols: int
    models: int
    elapsed: float
    warnings: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "markdown": str(self.markdown),
            "files": [str(p) for p in self.files],
            "forecasts": self.forecasts,
            "symbols": self.symbols,
            "models": self.models,
            "elapsed_seconds": round(self.elapsed, 1),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class MergeOutcome:
    out: Path
    reports: int
    files: list[Path]


def _names(value: str | Sequence[str]) -> list[str]:
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(s).strip() for s in items if str(s).strip()]


def _text(value: str | int | Sequence[int]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return ",".join(str(v) for v in value)


def backtest_request(
    *,
    symbols: str | Sequence[str] = "",
    models: str | Sequence[str] = "naive,auto",
    horizons: str | Sequence[int] = "1,7",
    test_start: str = "",
    test_end: str | None = None,
    levels: str | Sequence[int] = "80,90,95",
    refit_every: str | int = "30",
    warmup_days: int = 180,
    auto_candidates: str | Sequence[str] = DEFAULT_AUTO_CANDIDATES,
    params: Sequence[str] = (),
    data: str | None = None,
    out: str | Path | None = None,
    plots: bool = True,
    pdf: bool = False,
) -> BacktestRequest:
    """Check every option (nothing is read or written); ``EngineError`` names the bad one."""
    if not test_start:
        raise EngineError("--test-start is required (first origin, YYYY-MM-DD)")
    symbol_list = [s.upper() for s in _names(symbols)]
    model_list = [m.lower() for m in _names(models)]
    if not symbol_list:
        raise EngineError("--symbols: give at least one symbol")
    unknown = [m for m in model_list if m != AUTO and m not in MODEL_TYPES]
    if unknown or not model_list:
        known = ", ".join([*MODEL_TYPES, AUTO])
        raise EngineError(f"--models: unknown model(s) {', '.join(unknown)}; known: {known}")
    candidates = tuple(_names(auto_candidates))
    bad = [c for c in candidates if c not in MODEL_TYPES]
    if bad:
        raise EngineError(f"--auto-candidates: unknown model(s) {', '.join(bad)}")
    horizon_list = parse_int_list(_text(horizons), "horizons")
    level_list = parse_int_list(_text(levels), "levels")
    if any(lv >= 100 for lv in level_list):
        raise EngineError("--levels: percentages below 100, e.g. 80,90,95")
    try:
        start = pd.Timestamp(test_start)
        end = pd.Timestamp(test_end) if test_end else None
    except ValueError:
        raise EngineError("--test-start/--test-end: expected YYYY-MM-DD") from None
    refit, overrides = parse_refit(_text(refit_every))
    config = BacktestConfig(
        test_start=str(start.date()),
        test_end=str(end.date()) if end is not None else None,
        horizons=tuple(horizon_list),
        levels=tuple(level_list),
        refit_every=refit,
        refit_overrides=overrides,
        warmup_days=warmup_days,
        auto_candidates=candidates,
    )
    for model, model_params in model_params_from(params).items():
        config.model_params.setdefault(model, {}).update(model_params)
    out_path = Path(out) if out else default_out()
    return BacktestRequest(
        symbols=tuple(symbol_list),
        models=tuple(model_list),
        config=config,
        data=data or None,
        out=out_path,
        plots=plots,
        pdf=pdf,
        options={
            "symbols": ",".join(symbol_list),
            "models": ",".join(model_list),
            "horizons": _text(horizons),
            "test_start": test_start,
            "test_end": test_end,
            "levels": _text(levels),
            "refit_every": _text(refit_every),
            "warmup_days": warmup_days,
            "auto_candidates": ",".join(candidates),
            "params": list(params),
            "data": data or None,
            "out": str(out_path),
            "plots": plots,
            "pdf": pdf,
        },
    )


def backtest_frames(*, symbols: Sequence[str], data: str | None) -> dict[str, pd.DataFrame]:
    """Daily OHLCV per symbol: from ``data/<SYMBOL>.csv``, else from the database."""
    if data:
        return load_csv_dir(Path(data), symbols)
    frames = {}
    for symbol in symbols:
        try:
            frame = market_selectors.candle_frame(asset=symbol, interval="1d")
        except Exception as exc:  # AssetNotFound and friends: report, do not crash
            raise EngineError(f"{symbol}: {exc}") from None
        if frame.empty:
            raise EngineError(f"{symbol}: no daily candles in the database")
        frames[symbol] = frame
    return frames


def backtest_run(*, request: BacktestRequest, progress: Progress | None = None) -> BacktestOutcome:
    """Load, walk forward, write the report files; re-running rewrites the same files."""
    frames = backtest_frames(symbols=request.symbols, data=request.data)
    out = request.out
    out.parent.mkdir(parents=True, exist_ok=True)
    models = list(request.models)
    started = time.perf_counter()
    if progress is None:
        result = run_backtest(frames, models, request.config)
    else:
        with progress(planned_steps(frames, models, request.config)) as bar:
            result = run_backtest(frames, models, request.config, progress=bar.update)
    elapsed = time.perf_counter() - started

    report = result.to_report()
    report["config"]["elapsed_seconds"] = round(elapsed, 1)
    report["config"]["data"] = request.data or "database"
    markdown = _write_report(report, out)
    files = write_plots(report, out.parent, out.stem) if request.plots else []
    if request.pdf:
        files.append(_write_pdf(report, out))
    return BacktestOutcome(
        out=out,
        markdown=markdown,
        files=files,
        forecasts=len(report["forecasts"]),
        symbols=len(request.symbols),
        models=len(models),
        elapsed=elapsed,
        warnings=list(result.warnings),
    )


def backtest_merge(
    *,
    reports: Sequence[str | Path],
    out: str | Path | None = None,
    plots: bool = True,
    pdf: bool = False,
) -> MergeOutcome:
    """Merge report.json files (same symbols and period, different models) into ``out``, with
    its summary and plots."""
    loaded = []
    for name in reports:
        try:
            loaded.append(json.loads(Path(name).read_text()))
        except (OSError, ValueError) as exc:
            raise EngineError(f"--merge: cannot read {name}: {exc}") from None
    merged = merge_reports(loaded)
    out_path = Path(out) if out else default_out()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _write_report(merged, out_path)
    files = write_plots(merged, out_path.parent, out_path.stem) if plots else []
    if pdf:
        files.append(_write_pdf(merged, out_path))
    return MergeOutcome(out=out_path, reports=len(loaded), files=files)


@transaction.atomic
def backtest_enqueue(*, request: BacktestRequest) -> str:
    """Send a validated request to the ``forecasts.backtest`` task (the training queue) on
    commit; returns the task id."""
    return task_send_on_commit(
        TASK, kwargs=request.options, queue=settings.FORECAST_TRAINING_QUEUE or None
    )


def _write_report(report: Mapping[str, Any], out: Path) -> Path:
    out.write_text(json.dumps(report, indent=1, default=str))
    markdown = out.with_suffix(".md")
    markdown.write_text(markdown_summary(report))
    return markdown


def _write_pdf(report: dict[str, Any], out: Path) -> Path:
    path = out.with_suffix(".pdf")
    path.write_bytes(backtest_report_pdf(report))
    return path


def planned_steps(frames: Mapping[str, Any], models: Sequence[str], config: BacktestConfig) -> int:
    """Origins x models that the walk-forward will step through (for the progress bar)."""
    needed = {m for m in models if m != AUTO} | {"naive"}
    if AUTO in models:
        needed |= set(config.auto_candidates)
    total = 0
    for frame in frames.values():
        idx = frame.index
        start = pd.Timestamp(config.test_start)
        if idx.tz is not None:
            start = start.tz_localize(idx.tz)
        first = max(idx[0], start - pd.Timedelta(days=config.warmup_days))
        n = int(((idx >= first) & (idx <= idx[-1] - pd.Timedelta(days=min(config.horizons)))).sum())
        total += n * len(needed)
    return max(total, 1) if not math.isnan(total) else 1
