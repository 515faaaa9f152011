"""Run the anomaly detector over daily OHLCV CSV files and report what it flags, per coin.

    manage.py anomalies_report --data ../shared/data/ohlcv/daily [--top 5] [--z 6]

Reads ``<SYMBOL>.csv`` files (``date,open,high,low,close,volume``) without touching the
database: the same pure ``detect`` the daily beat job runs on the stored candles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from alerts.engine.anomaly import detect
from core.ohlcv import open_text, parse_ohlcv
from core.progress import progress


class Command(BaseCommand):
    help = "Report the days the anomaly detector flags in daily OHLCV CSV files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--data", required=True, help="folder of <SYMBOL>.csv daily files")
        parser.add_argument("--top", type=int, default=5, help="largest flags listed per coin")
        parser.add_argument("--z", type=float, default=6.0, help="robust z-score threshold")
        parser.add_argument("--window", type=int, default=30, help="rolling window (days)")
        parser.add_argument("--progress", action="store_true", help="force the progress bar")

    def handle(self, *args: Any, **opts: Any) -> None:
        folder = Path(opts["data"])
        if not folder.is_dir():
            raise CommandError(f"--data {folder} is not a directory")
        files = sorted(folder.glob("*.csv"))
        if not files:
            raise CommandError(f"no *.csv files in {folder}")
        if opts["z"] <= 0 or opts["window"] < 5:
            raise CommandError("--z must be > 0 and --window >= 5")
        total_days = total_flags = 0
        lines = []
        for path in progress(files, desc="coins", unit="coin", force=opts["progress"]):
            with open_text(path) as fh:
                table = parse_ohlcv(fh, floor_to_day=True)
            if table.problems:
                first = table.problems[0]
                raise CommandError(
                    f"{path.name}: not a daily OHLCV CSV (line {first.line}: {first.message})"
                )
            rows = table.rows
            times = [r.open_time for r in rows]
            closes = [r.close for r in rows]
            volumes = [r.volume for r in rows]
            flags = detect(
                times,
                closes,
                volumes,
                window=opts["window"],
                return_z=opts["z"],
                volume_z=opts["z"],
            )
            days = {f.at for f in flags}
            moves = sorted((f for f in flags if f.kind == "return"), key=lambda f: -abs(f.score))
            total_days += len(rows)
            total_flags += len(days)
            top = ", ".join(
                f"{f.at:%Y-%m-%d} {f.value:+.1f}% (z {f.score:+.1f})" for f in moves[: opts["top"]]
            )
            n_ret = sum(f.kind == "return" for f in flags)
            n_vol = sum(f.kind == "volume" for f in flags)
            lines.append(
                f"{path.stem:<6} {len(rows):>5} days  {len(days):>3} flagged "
                f"({n_ret} moves, {n_vol} volumes)  largest: {top or '-'}"
            )
        self.stdout.write(f"robust z >= {opts['z']:g} against the previous {opts['window']} days")
        for line in lines:
            self.stdout.write(line)
        share = 100 * total_flags / max(total_days, 1)
        self.stdout.write(f"total: {total_flags} flagged days of {total_days} ({share:.2f}%)")
