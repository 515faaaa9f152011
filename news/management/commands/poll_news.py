"""``manage.py poll_news [--source SLUG ...] [--due]``: poll sources now and report."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress
from news.models import Source
from news.services import source_poll, sources_due


class Command(BaseCommand):
    help = "Poll the given sources (default: every enabled one; --due: only those due)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--source", action="append", default=[], help="Source slug")
        parser.add_argument("--due", action="store_true")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["source"]:
            sources = list(Source.objects.filter(slug__in=options["source"]))
            missing = set(options["source"]) - {s.slug for s in sources}
            if missing:
                raise CommandError(f"unknown source(s): {', '.join(sorted(missing))}")
        elif options["due"]:
            sources = sources_due()
        else:
            sources = list(Source.objects.filter(enabled=True).exclude(kind=Source.Kind.CRAWL))
        failed = 0
        for source in progress(sources, desc="sources", unit="source"):
            r = source_poll(source=source)
            failed += r.status == "failed"
            self.stdout.write(
                f"{r.source:24} {r.status:8} fetched={r.fetched} new={r.stored} "
                f"duplicates={r.duplicates} rejected={r.rejected} {r.error}"
            )
        if failed and failed == len(sources):
            raise CommandError("every source failed")
