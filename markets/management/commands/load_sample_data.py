"""``manage.py load_sample_data [--path DIR]``: the recorded demo data into an empty database."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.progress import progress
from markets.services import load_sample_data
from markets.services.sample_data import sample_files


class Command(BaseCommand):
    help = (
        "Load $CRYPTOCAST_SAMPLE_DATA/ohlcv/daily/*.csv (1d) and ohlcv/hourly/*.csv.gz (1h) "
        "for the 10 sample coins. Idempotent; does nothing (exit 0) when the data is absent."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--path", default=None, help="Default: settings.CRYPTOCAST_SAMPLE_DATA")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        root = options["path"] or settings.CRYPTOCAST_SAMPLE_DATA
        total = len(sample_files(Path(root))) if root and Path(root).is_dir() else 0
        with progress(total=total, unit="file", desc="sample data") as bar:
            result = load_sample_data(data_dir=options["path"], on_file=lambda _name: bar.update(1))
        if not result.available:
            self.stdout.write(self.style.WARNING(result.message))
            return
        for line in result.skipped:
            self.stdout.write(f"skipped {line}")
        for report in result.loaded:
            style = self.style.SUCCESS if report.accepted else self.style.ERROR
            self.stdout.write(style(report.summary()))
        self.stdout.write(result.message)
        if not result.ok:
            raise CommandError("some sample files were rejected (see above)")
