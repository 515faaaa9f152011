"""``manage.py generate_forecasts --symbols BTC,ETH [--models auto,naive,...] [--days 30]``

``--tracked`` issues for every tracked coin (top ``FORECAST_TOP_N`` + defaults + watchlists)
as an issuing run executed here, coin by coin; a coin without enough history is reported as
skipped ("not enough history"), never given a silent naive forecast.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_wrapper
from forecasts import services

from ._runs import report_run


class Command(BaseCommand):
    help = (
        "Issue forecasts (immutable archive rows) per coin x model x horizon from verified "
        "artifacts; never trains. Unservable models fall back to naive, labelled."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--symbols", default=None, help="Comma-separated coins (BTC,ETH).")
        parser.add_argument(
            "--tracked",
            action="store_true",
            help="Every tracked coin (top FORECAST_TOP_N + defaults + watchlists) with enough "
            "history, as an issuing run of one task per coin run here.",
        )
        parser.add_argument(
            "--models",
            default="",
            help=f"Comma-separated ({','.join(services.REQUESTABLE_MODELS)}); "
            "default FORECAST_DEFAULT_MODELS plus auto.",
        )
        parser.add_argument("--days", type=int, default=None, help="Horizons 1..N (max 30).")
        parser.add_argument("--progress", action="store_true", help="Force the progress bar.")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        models = opts["models"] or ",".join([*services.default_models(), "auto"])
        if opts["tracked"]:
            self._run(models=models, days=opts["days"], progress=opts["progress"])
            return
        if opts["symbols"] is None:
            raise CommandError("give --symbols, or --tracked for every tracked coin")
        try:
            report = services.generate_forecasts(
                symbols=opts["symbols"],
                models=models,
                days=opts["days"],
                progress=progress_wrapper(desc="forecast", force=opts["progress"]),
            )
        except services.ForecastInputError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.fallbacks:
            self.stdout.write(self.style.WARNING(f"fallback: {line}"))
        for line in report.skipped:
            self.stdout.write(self.style.WARNING(f"skipped: {line}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"{report.created} forecast row(s) issued; "
                f"{report.existing} coin/model issue(s) already existed."
            )
        )

    def _run(self, *, models: str, days: int | None, progress: bool) -> None:

        try:
            run = services.issuing_run_start(models=models, days=days, enqueue=False)
        except services.ForecastInputError as exc:
            raise CommandError(str(exc)) from exc
        queued = list(run.tasks.filter(status="queued").order_by("id"))
        for task in progress_wrapper(desc="forecast", force=progress)(queued):
            done = services.execute_task(task_id=task.pk)
            self.stdout.write(f"{task.asset_id:<12} {done.status:<8} {done.detail}")
        report_run(self, run, failed_noun="coin(s)")
