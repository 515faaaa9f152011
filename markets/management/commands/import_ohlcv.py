"""``manage.py import_ohlcv PATH [--interval 1d] [--symbol SYM]``: validated CSV import."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress
from markets.models import Interval
from markets.services import ImportInputError, import_ohlcv_path


class Command(BaseCommand):
    help = (
        "Import OHLCV CSV files (a file or a directory of <SYMBOL>.csv[.gz]). Each file is "
        "validated first and rejected whole on any bad row; exits 1 if any file was rejected."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("path", type=Path)
        parser.add_argument("--interval", default="1d", choices=Interval.values)
        parser.add_argument(
            "--symbol", default=None, help="Symbol of a single file (default: its name)"
        )
        parser.add_argument("--source", default="csv", help="Provenance label of the candles")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path: Path = options["path"]
        try:
            count = len(list(path.iterdir())) if path.is_dir() else 1
        except OSError:
            count = 1
        with progress(total=count, unit="file", desc="import") as bar:

            def on_file(report):  # type: ignore[no-untyped-def]
                bar.update(1)
                style = self.style.SUCCESS if report.accepted else self.style.ERROR
                self.stdout.write(style(report.summary()))

            try:
                report = import_ohlcv_path(
                    path=path,
                    interval=options["interval"],
                    symbol=options["symbol"],
                    source=options["source"][:32],
                    on_file=on_file,
                )
            except ImportInputError as exc:
                raise CommandError(str(exc)) from exc
        rejected = [f.file for f in report.files if not f.accepted]
        self.stdout.write(
            f"{len(report.files) - len(rejected)} file(s) imported, {len(rejected)} rejected, "
            f"{report.written} candles written."
        )
        if rejected:
            raise CommandError(
                f"rejected: {', '.join(rejected)} (nothing of these files was written)"
            )
