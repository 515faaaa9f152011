from django.apps import AppConfig

from core.schedules import PeriodicJob, register


class ForecastsConfig(AppConfig):
    name = "forecasts"
    verbose_name = "Forecasts"

    def ready(self) -> None:
        # AppConfig.ready() wiring: streaming.services imports the stream log's models, which
        # cannot be imported before the app registry is ready.
        from streaming.services import provider_register

        for job in (
            PeriodicJob(
                name="forecasts: daily forecasts",
                task="forecasts.generate",
                crontab="30 0 * * *",  # after the daily candles job (00:05)
                expire_seconds=6 * 3600,
                description="Fan out one issuing task per tracked coin (top N + defaults + "
                "watchlists): every model (+auto) from the latest daily candle; never trains.",
            ),
            PeriodicJob(
                name="forecasts: weekly retraining",
                task="forecasts.retrain",
                crontab="0 2 * * 0",
                expire_seconds=12 * 3600,
                description="Fan out one training task per tracked coin x model type; promote "
                "only on better walk-forward skill; then issue fresh forecasts.",
            ),
            PeriodicJob(
                name="forecasts: daily actuals",
                task="forecasts.fill_actuals",
                crontab="15 0 * * *",
                expire_seconds=6 * 3600,
                description="Fill actual/error of archived forecasts whose target has closed.",
            ),
        ):
            register(job)

        # deferred to ready(): forecasts.streams reads markets' models, loaded only by now
        from forecasts.streams import forecasts_currency

        provider_register("forecasts", currency=forecasts_currency)
