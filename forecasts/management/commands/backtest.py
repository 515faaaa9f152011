"""``manage.py backtest``: walk-forward backtest of forecasting models against naive.

Example::

    manage.py backtest --data ../shared/data/ohlcv/daily --symbols BTC,ETH \\
        --models naive,lightgbm,auto --horizons 1,7 --test-start 2025-01-01 \\
        --levels 80,90,95 --out var/backtest/report.json --refit-every 30

Writes ``report.json`` (every raw forecast, the metrics and the config), ``<stem>.md`` (the
summary table) and PNG plots next to it; ``--pdf`` adds ``<stem>.pdf`` (chart and table).
Without ``--data`` the daily candles come from the database (``markets.selectors.candle_frame``).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Walk-forward backtest of forecasting models vs the naive random walk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--data", help="directory of <SYMBOL>.csv daily OHLCV files")
        parser.add_argument("--symbols", default="", help="comma-separated, e.g. BTC,ETH")
        parser.add_argument("--models", default="naive,auto", help="comma-separated model types")
        parser.add_argument("--horizons", default="1,7", help="days, comma-separated")
        parser.add_argument("--test-start", default="", help="first origin (YYYY-MM-DD)")
        parser.add_argument("--test-end", default=None, help="last origin (default: latest)")
        parser.add_argument("--levels", default="80,90,95", help="interval levels in percent")
        parser.add_argument(
            "--out",
            default=str(settings.VAR_DIR / "backtest" / "report.json"),
            help="report path (default: CRYPTOCAST_VAR_DIR/backtest/report.json)",
        )
        parser.add_argument(
            "--refit-every", default="30", help="days between refits, e.g. 30 or 30,lstm=90"
        )
        parser.add_argument("--warmup-days", type=int, default=180)
        parser.add_argument(
            "--auto-candidates",
            default="naive,drift,arima,ets,lightgbm",
            help="models auto may choose from",
        )
        parser.add_argument(
            "--param", action="append", default=[], help="model.param=value (repeatable)"
        )
        parser.add_argument("--no-plots", action="store_true")
        parser.add_argument("--pdf", action="store_true", help="also write <stem>.pdf")
        parser.add_argument(
            "--merge",
            nargs="+",
            metavar="REPORT",
            help="instead of running: merge these report.json files (same symbols and period, "
            "different models) into --out, with its summary and plots",
        )
        parser.add_argument("--progress", action="store_true", help="force the progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        from forecasts.engine import EngineError

        try:
            if opts.get("merge"):
                self._merge(opts)
            else:
                self._run(opts)
        except EngineError as exc:
            raise CommandError(str(exc)) from None

    def _run(self, opts: dict[str, Any]) -> None:
        import pandas as pd

        from core.progress import progress
        from forecasts.engine import MODEL_TYPES, EngineError
        from forecasts.engine.backtest import AUTO, BacktestConfig, run_backtest
        from forecasts.engine.report import (
            markdown_summary,
            model_params_from,
            parse_int_list,
            parse_refit,
            write_plots,
        )

        if not opts["test_start"]:
            raise EngineError("--test-start is required (first origin, YYYY-MM-DD)")
        symbols = [s.strip().upper() for s in opts["symbols"].split(",") if s.strip()]
        models = [m.strip().lower() for m in opts["models"].split(",") if m.strip()]
        if not symbols:
            raise EngineError("--symbols: give at least one symbol")
        unknown = [m for m in models if m != AUTO and m not in MODEL_TYPES]
        if unknown or not models:
            known = ", ".join([*MODEL_TYPES, AUTO])
            raise EngineError(f"--models: unknown model(s) {', '.join(unknown)}; known: {known}")
        candidates = tuple(c.strip() for c in opts["auto_candidates"].split(",") if c.strip())
        bad = [c for c in candidates if c not in MODEL_TYPES]
        if bad:
            raise EngineError(f"--auto-candidates: unknown model(s) {', '.join(bad)}")
        horizons = parse_int_list(opts["horizons"], "horizons")
        levels = parse_int_list(opts["levels"], "levels")
        if any(lv >= 100 for lv in levels):
            raise EngineError("--levels: percentages below 100, e.g. 80,90,95")
        try:
            test_start = pd.Timestamp(opts["test_start"])
            test_end = pd.Timestamp(opts["test_end"]) if opts["test_end"] else None
        except ValueError:
            raise EngineError("--test-start/--test-end: expected YYYY-MM-DD") from None
        refit, overrides = parse_refit(opts["refit_every"])
        config = BacktestConfig(
            test_start=str(test_start.date()),
            test_end=str(test_end.date()) if test_end is not None else None,
            horizons=tuple(horizons),
            levels=tuple(levels),
            refit_every=refit,
            refit_overrides=overrides,
            warmup_days=opts["warmup_days"],
            auto_candidates=candidates,
        )
        for model, params in model_params_from(opts["param"]).items():
            config.model_params.setdefault(model, {}).update(params)

        frames = self._load(symbols, opts["data"])
        out = Path(opts["out"])
        out.parent.mkdir(parents=True, exist_ok=True)

        total = _planned_blocks(frames, models, config)
        started = time.perf_counter()
        with progress(total=total, desc="backtest", unit="day", force=opts["progress"]) as bar:
            result = run_backtest(frames, models, config, progress=bar.update)
        elapsed = time.perf_counter() - started

        report = result.to_report()
        report["config"]["elapsed_seconds"] = round(elapsed, 1)
        report["config"]["data"] = opts["data"] or "database"
        out.write_text(json.dumps(report, indent=1, default=str))
        md_path = out.with_suffix(".md")
        md_path.write_text(markdown_summary(report))
        plots = [] if opts["no_plots"] else write_plots(report, out.parent, out.stem)
        if opts["pdf"]:
            plots.append(_write_pdf(report, out))
        self.stdout.write(
            f"{len(report['forecasts'])} forecasts for {len(symbols)} symbol(s) x "
            f"{len(models)} model(s) in {elapsed:.1f}s -> {out}, {md_path}"
            + (f", {len(plots)} plot(s)" if plots else "")
        )
        for warning in result.warnings:
            self.stderr.write(warning)

    def _merge(self, opts: dict[str, Any]) -> None:
        from forecasts.engine import EngineError
        from forecasts.engine.report import markdown_summary, merge_reports, write_plots

        reports = []
        for name in opts["merge"]:
            try:
                reports.append(json.loads(Path(name).read_text()))
            except (OSError, ValueError) as exc:
                raise EngineError(f"--merge: cannot read {name}: {exc}") from None
        merged = merge_reports(reports)
        out = Path(opts["out"])
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(merged, indent=1, default=str))
        out.with_suffix(".md").write_text(markdown_summary(merged))
        plots = [] if opts["no_plots"] else write_plots(merged, out.parent, out.stem)
        if opts["pdf"]:
            plots.append(_write_pdf(merged, out))
        self.stdout.write(f"merged {len(reports)} reports -> {out} ({len(plots)} plot(s))")

    def _load(self, symbols: list[str], data: str | None) -> dict[str, Any]:
        from forecasts.engine import EngineError
        from forecasts.engine.io import load_csv_dir

        if data:
            return load_csv_dir(Path(data), symbols)
        from markets import selectors  # lazy: the CSV path needs no database

        frames = {}
        for symbol in symbols:
            try:
                frame = selectors.candle_frame(asset=symbol, interval="1d")
            except Exception as exc:  # AssetNotFound and friends: report, do not crash
                raise EngineError(f"{symbol}: {exc}") from None
            if frame.empty:
                raise EngineError(f"{symbol}: no daily candles in the database")
            frames[symbol] = frame
        return frames


def _write_pdf(report: dict[str, Any], out: Path) -> Path:
    from forecasts.reports import backtest_report_pdf

    path = out.with_suffix(".pdf")
    path.write_bytes(backtest_report_pdf(report))
    return path


def _planned_blocks(frames: dict[str, Any], models: list[str], config: Any) -> int:
    """Origins x models that the walk-forward will step through (for the progress bar)."""
    import pandas as pd

    from forecasts.engine.backtest import AUTO

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
