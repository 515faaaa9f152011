"""Celery entry points of `news`: one service call under the job's lock (no overlap)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from core.services import job_run
from core.taskpolicy import retrying
from news import services

COMMON = retrying(backoff=5, backoff_max=300, max_retries=5)


@shared_task(name="news.poll_sources", time_limit=600, soft_time_limit=540, **COMMON)
def poll_sources(self) -> dict[str, Any]:
    """A failing source is recorded on its row and never stops the others."""
    return job_run(
        job="news.poll_sources",
        fn=lambda: [asdict(r) for r in services.sources_poll_due()],
        lock_ttl=660,
        task_id=self.request.id or "",
    )


@shared_task(name="news.sentiment_daily", time_limit=600, soft_time_limit=540, **COMMON)
def sentiment_daily(self, days: int = 2) -> dict[str, Any]:
    return job_run(
        job="news.sentiment_daily",
        fn=lambda: {"rows": services.sentiment_daily_backfill(days=days)},
        lock_ttl=660,
        task_id=self.request.id or "",
    )


@shared_task(name="news.cleanup_articles", time_limit=600, soft_time_limit=540, **COMMON)
def cleanup_articles(self) -> dict[str, Any]:
    return job_run(
        job="news.cleanup_articles",
        fn=lambda: {"deleted": services.articles_cleanup()},
        lock_ttl=660,
        task_id=self.request.id or "",
    )
