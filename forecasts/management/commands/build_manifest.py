"""``manage.py build_manifest``: rebuild and verify the model manifest from artifact folders."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_wrapper
from forecasts import services


class Command(BaseCommand):
    help = (
        "Rebuild models/artifacts/manifest.json from the version folders, re-verifying every "
        "file's sha256; tampered or incomplete versions are left out and reported."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--progress", action="store_true", help="Force the progress bar.")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        report = services.build_manifest(
            progress=progress_wrapper(desc="verify", force=opts["progress"])
        )
        self.stdout.write(f"{report.versions} verified version(s) for {report.keys} key(s).")
        for alias in report.aliases_dropped:
            self.stdout.write(self.style.WARNING(f"alias dropped (version gone): {alias}"))
        for path, reason in report.refused:
            self.stderr.write(self.style.ERROR(f"REFUSED {path}: {reason}"))
        if report.refused:
            raise CommandError(f"{len(report.refused)} artifact version(s) refused")
        self.stdout.write(self.style.SUCCESS("manifest written."))
