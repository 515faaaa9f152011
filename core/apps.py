from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers system checks)

        # ready() wiring: the schedule module imports django-celery-beat's models
        from .schedules import PeriodicJob, register

        register(
            PeriodicJob(
                name="core: record health samples",
                task="core.record_health",
                every_seconds=settings.HEALTH_SAMPLE_EVERY_SECONDS,
                expire_seconds=max(settings.HEALTH_SAMPLE_EVERY_SECONDS - 5, 5),
                description="One health sample per component (GET /health/trends).",
            )
        )
