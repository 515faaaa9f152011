"""``manage.py setup_schedule [--reset]``: write the registered periodic jobs to beat's tables."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from core.schedules import registered_jobs, setup_schedule


class Command(BaseCommand):
    help = "Create the django-celery-beat rows of every registered periodic job (idempotent)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--reset", action="store_true", help="Rewrite existing rows (discards admin edits)."
        )
        parser.add_argument("--list", action="store_true", help="Only list the registered jobs.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        jobs = registered_jobs()
        if options["list"]:
            for job in jobs:
                when = f"every {job.every_seconds}s" if job.every_seconds else f"cron {job.crontab}"
                self.stdout.write(f"{job.name}: {job.task} {job.kwargs} ({when})")
            return
        report = setup_schedule(jobs=jobs, reset=options["reset"])
        for name in report.created:
            self.stdout.write(self.style.SUCCESS(f"created  {name}"))
        for name in report.updated:
            self.stdout.write(self.style.WARNING(f"reset    {name}"))
        for name in report.kept:
            self.stdout.write(f"kept     {name}")
        self.stdout.write(
            f"{len(report.created)} created, {len(report.updated)} reset, {len(report.kept)} kept."
        )
