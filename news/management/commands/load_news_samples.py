"""``manage.py load_news_samples [--path DIR]``: the recorded feeds, so offline news has content."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.http import InvalidPayload
from core.progress import progress
from news.services import news_samples_load, sources_seed


class Command(BaseCommand):
    help = (
        "Seed the default sources and ingest $CRYPTOCAST_SAMPLE_DATA/news/rss/*.xml (idempotent)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--path", default=None, help="Default: settings.CRYPTOCAST_SAMPLE_DATA")
        parser.add_argument("--gdelt", action="store_true", help="Also the (non-crypto) GDELT file")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        created = sources_seed()
        self.stdout.write(f"sources: {created} created")
        root = options["path"] or settings.CRYPTOCAST_SAMPLE_DATA
        if not root or not Path(root).is_dir():
            if options["path"]:
                raise CommandError(f"{options['path']} is not a directory")
            self.stdout.write(self.style.WARNING("No sample data: no recorded news loaded."))
            return
        with progress(total=1, desc="news samples", unit="run") as bar:
            try:
                files = news_samples_load(data_dir=Path(root), include_gdelt=options["gdelt"])
            except InvalidPayload as exc:
                raise CommandError(f"a recorded feed does not parse: {exc}") from exc
            bar.update(1)
        for f in files:
            self.stdout.write(
                f"{Path(f.path).name}: {f.stored} new, {f.duplicates} already stored ({f.source})"
            )
        total = sum(f.stored for f in files)
        self.stdout.write(self.style.SUCCESS(f"{len(files)} feed file(s), {total} new article(s)"))
