from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.conf import settings

        from . import checks  # noqa: F401  (registers system checks)
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
