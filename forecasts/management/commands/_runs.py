"""What ``train_models --tracked`` and ``generate_forecasts --tracked`` print after a run
(not a command: Django skips modules whose name starts with an underscore)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from forecasts import selectors


def report_run(command: BaseCommand, run: Any, *, failed_noun: str) -> None:
    """Skipped and failed (coin, model) lines, the run's counts; CommandError on failures."""
    run.refresh_from_db()
    summary = selectors.run_summary(run=run)
    for line in summary["skipped"]:
        command.stdout.write(command.style.WARNING(f"skipped {line}"))
    for line in summary["failures"]:
        command.stderr.write(command.style.ERROR(f"FAILED {line}"))
    command.stdout.write(f"run {run.pk}: {run.status} {summary['counts']}")
    if summary["failures"]:
        raise CommandError(f"{len(summary['failures'])} {failed_noun} failed")
