"""``manage.py train_models --symbols BTC,ETH --models naive,lightgbm,lstm``

``--tracked`` trains every tracked coin (top ``FORECAST_TOP_N`` + defaults) as one fanned-out
run executed here, task by task (visible in ``/api/v1/forecasts/training``); ``--fanout``
only sends the run's tasks to the Celery workers and returns.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.progress import progress_wrapper
from forecasts import selectors, services

from ._runs import report_run


class Command(BaseCommand):
    help = (
        "Train models per coin: walk-forward skill vs naive, conformal calibration, a new "
        "artifact version registered as challenger and promoted only if it beats the champion."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--symbols", default="", help="Comma-separated coins (BTC,ETH).")
        parser.add_argument(
            "--tracked",
            action="store_true",
            help="Every tracked coin (top FORECAST_TOP_N + defaults) with enough history, as "
            "a run of one task per coin x model (run here, unless --fanout).",
        )
        parser.add_argument(
            "--fanout",
            action="store_true",
            help="Send the run's tasks to the Celery workers instead of running them here.",
        )
        parser.add_argument(
            "--models",
            default="",
            help=f"Comma-separated model types ({','.join(services.MODEL_TYPES)}); "
            "default FORECAST_DEFAULT_MODELS. naive is always trained (it is the bar).",
        )
        parser.add_argument("--horizons", type=int, default=None, help="Train horizons 1..N.")
        parser.add_argument("--eval-days", type=int, default=None, help="Walk-forward origins.")
        parser.add_argument("--refit-every", type=int, default=None, help="Refit every N days.")
        parser.add_argument(
            "--warmup-days", type=int, default=None, help="Calibration-only origins before eval."
        )
        parser.add_argument("--epochs", type=int, default=None, help="Epochs for neural nets.")
        parser.add_argument("--progress", action="store_true", help="Force the progress bar.")

    def handle(self, *args, **opts):  # type: ignore[no-untyped-def]
        horizons = None
        if opts["horizons"] is not None:
            if not 1 <= opts["horizons"] <= 365:
                raise CommandError("--horizons must be between 1 and 365")
            horizons = list(range(1, opts["horizons"] + 1))
        for name in ("eval_days", "refit_every", "warmup_days", "epochs"):
            if opts[name] is not None and opts[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be a positive integer")
        params = None
        if opts["epochs"]:
            params = {
                m: {"epochs": opts["epochs"]} for m in ("lstm", "tcn", "transformer", "dlinear")
            }
        if opts["tracked"] or opts["fanout"]:
            self._run(opts, horizons=horizons, params=params)
            return
        if not opts["symbols"]:
            raise CommandError("give --symbols, or --tracked for every tracked coin")
        try:
            report = services.train_models(
                symbols=opts["symbols"],
                models=opts["models"] or None,
                horizons=horizons,
                eval_days=opts["eval_days"],
                refit_every=opts["refit_every"],
                warmup_days=opts["warmup_days"],
                params=params,
                progress=progress_wrapper(desc="train", force=opts["progress"]),
            )
        except services.ForecastInputError as exc:
            raise CommandError(str(exc)) from exc
        for r in report.results:
            skill = "n/a" if r.skill_score is None else f"{r.skill_score:.4f}"
            flag = "champion" if r.promoted else "challenger"
            self.stdout.write(
                f"{r.symbol:<6} {r.model:<12} {r.version}  relMAE vs naive {skill}  -> {flag} "
                f"({r.reason}; {r.seconds}s)"
            )
        for failure in report.failures:
            self.stderr.write(self.style.ERROR(f"FAILED {failure}"))
        if report.failures:
            raise CommandError(f"{len(report.failures)} model(s) failed to train")
        self.stdout.write(self.style.SUCCESS(f"{len(report.results)} version(s) registered."))

    def _run(self, opts, *, horizons, params) -> None:  # type: ignore[no-untyped-def]
        try:
            run = services.training_run_start(
                symbols=opts["symbols"] or None,
                models=opts["models"] or None,
                horizons=horizons,
                eval_days=opts["eval_days"],
                refit_every=opts["refit_every"],
                warmup_days=opts["warmup_days"],
                params=params,
                enqueue=opts["fanout"],
                issue_after=opts["fanout"],
            )
        except services.ForecastInputError as exc:
            raise CommandError(str(exc)) from exc
        if opts["fanout"]:
            counts = selectors.run_summary(run=run)["counts"]
            self.stdout.write(f"run {run.pk} sent to the workers: {counts}")
            return
        queued = list(run.tasks.filter(status="queued").order_by("id"))
        wrap = progress_wrapper(desc="train", force=opts["progress"])
        for task in wrap(queued):
            done = services.execute_task(task_id=task.pk)
            skill = "n/a" if done.skill_score is None else f"{done.skill_score:.4f}"
            self.stdout.write(
                f"{task.asset_id:<12} {task.model:<12} {done.status:<8} relMAE vs naive {skill} "
                f"({done.detail}; {done.seconds}s)"
            )
        report_run(self, run, failed_noun="task(s)")
