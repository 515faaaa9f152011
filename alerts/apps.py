import logging

from django.apps import AppConfig

logger = logging.getLogger("cryptocast.alerts")


def on_quotes(asset_ids: tuple[str, ...]) -> None:
    """Quote listener (runs on commit of each quote batch): enqueue evaluation of the coins
    that moved. A dead broker must not break the quote write: log, the sweep catches up."""
    if not asset_ids:
        return
    from alerts import tasks

    try:
        tasks.evaluate_assets.apply_async(kwargs={"asset_ids": list(asset_ids)}, retry=False)
    except Exception:
        logger.warning("alerts: could not enqueue evaluation of %d coins", len(asset_ids))


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from core.schedules import PeriodicJob, register
        from markets.services import quotes_listener_register

        quotes_listener_register("alerts", on_quotes)
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
