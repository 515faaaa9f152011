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


def on_forecasts(asset_ids: tuple[str, ...]) -> None:
    """Forecast listener (on commit of each issue, next to the ``forecasts:<asset>`` publish):
    the forecast-based conditions on those coins have new data, evaluate them now rather
    than at the next sweep. Same task, same idempotency as for quotes."""
    on_quotes(asset_ids)


def export_section(user_id: int) -> dict[str, object]:
    """The ``alerts.json`` of a user's data export (accounts)."""
    from alerts import selectors

    return selectors.user_export(user_id)


def tracked_assets() -> list[str]:
    """Watched coins get forecasts (forecasts' tracked set)."""
    from alerts import selectors

    return selectors.tracked_asset_ids()


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self) -> None:
        from accounts.services import export_section_register
        from core.schedules import PeriodicJob, register
        from forecasts.services import forecasts_listener_register, tracked_assets_register
        from markets.services import quotes_listener_register

        quotes_listener_register("alerts", on_quotes)
        forecasts_listener_register("alerts", on_forecasts)
        export_section_register("alerts", export_section)
        tracked_assets_register("alerts", tracked_assets)
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
