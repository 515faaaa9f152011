"""``manage.py backtest``: walk-forward backtest of forecasting models against naive.

Example::

    manage.py backtest --data ../shared/data/ohlcv/daily --symbols BTC,ETH \\
        --models naive,lightgbm,auto --horizons 1,7 --test-start 2025-01-01 \\
        --levels 80,90,95 --out var/backtest/report.json --refit-every 30

Writes ``report.json`` (every raw forecast, the metrics and the config), ``<stem>.md`` (the
summary table) and PNG plots next to it; ``--pdf`` adds ``<stem>.pdf`` (chart and table).
Without ``--data`` the daily candles come from the database (``markets.selectors.candle_frame``).
The work is ``forecasts.services.backtesting`` (the ``forecasts.backtest`` task runs the same).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.progress import progress_counter
from forecasts.engine import EngineError
from forecasts.services import backtest_merge, backtest_request, backtest_run
from forecasts.services.backtesting import DEFAULT_AUTO_CANDIDATES


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
            default=DEFAULT_AUTO_CANDIDATES,
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
        try:
            if opts.get("merge"):
                self._merge(opts)
            else:
                self._run(opts)
        except EngineError as exc:
            raise CommandError(str(exc)) from None

    def _run(self, opts: dict[str, Any]) -> None:
        request = backtest_request(
            symbols=opts["symbols"],
            models=opts["models"],
            horizons=opts["horizons"],
            test_start=opts["test_start"],
            test_end=opts["test_end"],
            levels=opts["levels"],
            refit_every=opts["refit_every"],
            warmup_days=opts["warmup_days"],
            auto_candidates=opts["auto_candidates"],
            params=opts["param"],
            data=opts["data"],
            out=opts["out"],
            plots=not opts["no_plots"],
            pdf=opts["pdf"],
        )
        bar = progress_counter(desc="backtest", unit="day", force=opts["progress"])
        done = backtest_run(request=request, progress=bar)
        self.stdout.write(
            f"{done.forecasts} forecasts for {done.symbols} symbol(s) x "
            f"{done.models} model(s) in {done.elapsed:.1f}s -> {done.out}, {done.markdown}"
            + (f", {len(done.files)} plot(s)" if done.files else "")
        )
        for warning in done.warnings:
            self.stderr.write(warning)

    def _merge(self, opts: dict[str, Any]) -> None:
        done = backtest_merge(
            reports=opts["merge"], out=opts["out"], plots=not opts["no_plots"], pdf=opts["pdf"]
        )
        self.stdout.write(
            f"merged {done.reports} reports -> {done.out} ({len(done.files)} plot(s))"
        )
