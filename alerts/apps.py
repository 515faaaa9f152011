import logging

from django.apps import AppConfig

from core.enqueue import task_send

logger = logging.getLogger("cryptocast.alerts")


def on_quotes(asset_ids: tuple[str, ...]) -> None:
    """Quote listener (runs on commit of each quote batch): enqueue evaluation of the coins
    that moved. A dead broker must not break the quote write: log, the sweep catches up."""
    if not asset_ids:
        return
    try:
        task_send("alerts.evaluate_assets", kwargs={"asset_ids": list(asset_ids)}, retry=False)
    except Exception:
        logger.warning("alerts: could not enqueue evaluation of %d coins", len(asset_ids))


def on_forecasts(asset_ids: tuple[str, ...]) -> None:
    """Forecast listener (on commit of each issue, next to the ``forecasts:<asset>`` publish):
    the forecast-based conditions on those coins have new data, evaluate them now rather
    than at the next sweep. Same task, same idempotency as for quotes."""
    on_quotes(asset_ids)


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        # ready() wiring: each hook module below imports models, loaded only by now
        from accounts.services import export_section_register

        # ready() wiring: the schedule registry imports django-celery-beat's models
        from core.schedules import PeriodicJob, register

        # ready() wiring: forecasts' listener and tracked-set hooks
        from forecasts.services import forecasts_listener_register, tracked_assets_register

        # ready() wiring: markets' quote listener hook
        from markets.services import quotes_listener_register

        # ready() wiring: the reads registered as other apps' hooks
        from . import selectors

        quotes_listener_register("alerts", on_quotes)
        forecasts_listener_register("alerts", on_forecasts)
        export_section_register("alerts", selectors.user_export)  # a user's alerts.json
        tracked_assets_register("alerts", selectors.tracked_asset_ids)  # watched coins
        register(
            PeriodicJob(
                name="alerts: sweep",
                task="alerts.sweep",
                every_seconds=60,
                expire_seconds=55,
                description="Evaluate every active alert (pending, no data, expiry) and "
                "deliver due notifications.",
            )
        )
        register(
            PeriodicJob(
                name="alerts: anomalies",
                task="alerts.detect_anomalies",
                crontab="20 0 * * *",
                expire_seconds=6 * 3600,
                description="Flag unusual daily moves and volumes (after the daily candles).",
            )
        )
        register(
            PeriodicJob(
                name="alerts: daily digest",
                task="alerts.send_digests",
                crontab="0 7 * * *",
                expire_seconds=6 * 3600,
                description="One e-mail per user with the day's alerts (daily-digest users).",
            )
        )
