from django.apps import AppConfig
from django.conf import settings

from core.schedules import PeriodicJob, register


class FxConfig(AppConfig):
    name = "fx"
    verbose_name = "Exchange rates"

    def ready(self) -> None:
        if settings.FX_SYNC_ENABLED:
            register(
                PeriodicJob(
                    name="fx: daily exchange rates",
                    task="fx.sync_rates",
                    crontab="20 16 * * *",  # ECB publishes around 16:00 CET
                    expire_seconds=3000,
                    description="Fiat reference rates of the day (frankfurter / ECB), per USD.",
                )
            )
