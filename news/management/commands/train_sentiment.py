"""``manage.py train_sentiment [--data FILE] [--out PATH]``: fit on every labelled row and
write the JSON artifact the scorer loads (no pickle)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.progress import progress
from news.sentiment.scorer import MODEL_PATH
from news.sentiment.training import fit, read_cryptolin, save

from .evaluate_sentiment import DEFAULT


class Command(BaseCommand):
    help = "Fit the headline sentiment model on CryptoLin and write its artifact."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--data", default=None)
        parser.add_argument("--out", default=str(MODEL_PATH))

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = (
            Path(options["data"])
            if options["data"]
            else (Path(settings.CRYPTOCAST_SAMPLE_DATA or ".") / DEFAULT)
        )
        if not path.is_file():
            raise CommandError(f"{path} not found (give --data)")
        rows = read_cryptolin(path)
        with progress(total=1, desc="fit", unit="fit") as bar:
            model = fit([r.text for r in rows], [r.label for r in rows])
            bar.update(1)
        save(model, Path(options["out"]), meta={"trained_on": f"{path.name} ({len(rows)} rows)"})
        self.stdout.write(
            self.style.SUCCESS(f"wrote {options['out']} ({len(model.vocabulary)} n-grams)")
        )
