"""``manage.py generate_forecasts --symbols BTC,ETH [--models auto,naive,...] [--days 30]``"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_wrapper
from forecasts import services


class Command(BaseCommand):
    help = (
        "Issue forecasts (immutable archive rows) per coin x model x horizon from verified "
        "artifacts; never trains. Unservable models fall back to naive, labelled."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--symbols", required=True, help="Comma-separated coins (BTC,ETH).")
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
