"""Beat jobs (called directly, under their lock) and the management commands."""

from __future__ import annotations

from io import StringIO

import httpx
import pytest
import respx
from django.core.management import CommandError, call_command

from news import tasks
from news.models import Article, Source

pytestmark = pytest.mark.django_db


def test_news_jobs_are_registered_for_beat():
    from core.schedules import registered_jobs

    names = {j.task for j in registered_jobs()}
    assert {"news.poll_sources", "news.sentiment_daily", "news.cleanup_articles"} <= names


@respx.mock
def test_poll_task_polls_due_sources_and_one_failure_does_not_stop_the_others(rss, assets):
    from news.services import sources_seed

    sources_seed()
    Source.objects.exclude(slug__in=["coindesk", "decrypt"]).update(enabled=False)
    respx.get(Source.objects.get(slug="coindesk").url).mock(return_value=httpx.Response(500))
    respx.get(Source.objects.get(slug="decrypt").url).mock(
        return_value=httpx.Response(200, content=rss("decrypt_rss_2025-12-12_58items.xml"))
    )
    result = tasks.poll_sources.run()
    assert result["status"] == "success"
    by_source = {r["source"]: r for r in result["result"]}
    assert by_source["coindesk"]["status"] == "failed"
    assert by_source["decrypt"]["stored"] == 58
    again = tasks.poll_sources.run()  # nothing is due any more
    assert again["result"] == []


def test_poll_task_is_skipped_while_another_run_holds_the_lock(db):
    from core.locks import acquire

    lease = acquire("job:news.poll_sources", ttl=60)
    try:
        assert tasks.poll_sources.run()["status"] == "skipped"
    finally:
        lease.release()


def test_sentiment_and_cleanup_tasks_run(db):
    assert tasks.sentiment_daily.run(days=2)["status"] == "success"
    assert tasks.cleanup_articles.run()["result"] == {"deleted": 0}


def test_load_news_samples_is_idempotent(sample_data, assets):
    out = StringIO()
    call_command("load_news_samples", "--path", str(sample_data), stdout=out)
    assert "135 new article(s)" in out.getvalue()
    out = StringIO()
    call_command("load_news_samples", "--path", str(sample_data), stdout=out)
    assert "0 new article(s)" in out.getvalue()
    assert Article.objects.count() == 135


def test_load_news_samples_rejects_a_missing_directory(tmp_path):
    with pytest.raises(CommandError, match="not a directory"):
        call_command("load_news_samples", "--path", str(tmp_path / "nope"))


def test_poll_news_rejects_unknown_sources(db):
    with pytest.raises(CommandError, match="unknown source"):
        call_command("poll_news", "--source", "nope")
