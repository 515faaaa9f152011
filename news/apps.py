from django.apps import AppConfig


class NewsConfig(AppConfig):
    name = "news"
    verbose_name = "News"

    def ready(self) -> None:
        # ready() wiring: the schedule registry imports django-celery-beat's models
        from core.schedules import PeriodicJob, register

        for job in (
            PeriodicJob(
                name="news: poll due sources",
                task="news.poll_sources",
                every_seconds=120,
                expire_seconds=110,
                description="Poll every enabled source whose poll interval has passed.",
            ),
            PeriodicJob(
                name="news: daily sentiment",
                task="news.sentiment_daily",
                crontab="15 0 * * *",
                kwargs={"days": 2},
                expire_seconds=6 * 3600,
                description="Store yesterday's sentiment per coin and overall (idempotent).",
            ),
            PeriodicJob(
                name="news: cleanup old articles",
                task="news.cleanup_articles",
                crontab="45 3 * * *",
                expire_seconds=6 * 3600,
                description="Delete articles older than NEWS_RETENTION_DAYS.",
            ),
        ):
            register(job)
