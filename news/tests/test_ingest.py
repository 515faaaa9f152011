"""Ingestion: dedupe, idempotent re-runs, clusters across outlets, tags, scores, publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
import time_machine
from django.utils import timezone

from news import services
from news.contracts import FeedItem
from news.models import Article, FetchRun, Source, StoryCluster
from news.parsers.rss import parse_feed

pytestmark = pytest.mark.django_db


def test_recorded_feeds_ingest_into_scored_tagged_articles(sample_data: Path, assets):
    files = services.news_samples_load(data_dir=sample_data)
    assert sum(f.stored for f in files) == 135
    a = Article.objects.get(title__startswith="Vanguard Exec Calls Bitcoin")
    assert [c.pk for c in a.coins.all()] == ["bitcoin"]
    assert a.sentiment_label in {"positive", "neutral", "negative"}
    assert -1 <= a.sentiment_score <= 1
    assert a.scorer == "cryptolin-charlr@1"
    assert a.source.slug == "decrypt"
    assert Article.objects.filter(url__contains="utm_").count() == 0


def test_re_ingesting_the_same_feeds_writes_nothing_new(sample_data: Path, assets):
    services.news_samples_load(data_dir=sample_data)
    counts = (Article.objects.count(), StoryCluster.objects.count())
    again = services.news_samples_load(data_dir=sample_data)
    assert sum(f.stored for f in again) == 0
    assert sum(f.duplicates for f in again) == 135
    assert (Article.objects.count(), StoryCluster.objects.count()) == counts


def test_the_same_story_from_different_outlets_shares_one_cluster(sample_data: Path, assets):
    services.news_samples_load(data_dir=sample_data)
    juventus = Article.objects.filter(title__icontains="Juventus")
    assert juventus.count() >= 2
    assert len({a.cluster_id for a in juventus}) == 1
    assert juventus.first().cluster.size == juventus.count()
    assert len({a.source_id for a in juventus}) == juventus.count()
    kalshi = Article.objects.filter(title__icontains="Phantom")
    assert kalshi.count() == 4
    assert len({a.cluster_id for a in kalshi}) == 1
    # unrelated stories stay apart
    assert StoryCluster.objects.count() > 100


def _source(slug: str = "test") -> Source:
    return Source.objects.create(slug=slug, name=slug, kind=Source.Kind.RSS, url="https://s.test/")


def test_tracking_variants_of_one_url_are_one_article(assets):
    now = timezone.now()
    items = [
        FeedItem(url="https://x.test/a?utm_source=rss", title="Bitcoin up", published_at=now),
        FeedItem(url="https://WWW.x.test/a#top", title="Bitcoin up", published_at=now),
        FeedItem(url="not a url", title="", published_at=now),
    ]
    result = services.articles_ingest(source=_source(), items=items, fetched_at=now)
    assert (result.stored, result.duplicates, result.rejected) == (1, 1, 1)
    assert Article.objects.get().url == "https://x.test/a"


def test_future_dates_are_not_believed_and_missing_dates_take_the_fetch_time(assets):
    now = timezone.now()
    items = [
        FeedItem(
            url="https://x.test/f", title="From the future", published_at=now + timedelta(days=3)
        ),
        FeedItem(url="https://x.test/n", title="No date", published_at=None),
    ]
    services.articles_ingest(source=_source(), items=items, fetched_at=now)
    assert set(Article.objects.values_list("published_at", flat=True)) == {now}


def test_vendor_coin_codes_go_through_the_registry(assets):
    now = timezone.now()
    item = FeedItem(
        url="https://x.test/c", title="ETF filed", published_at=now, coin_codes=("SOL", "NOPE")
    )
    services.articles_ingest(source=_source(), items=[item], fetched_at=now)
    assert [c.pk for c in Article.objects.get().coins.all()] == ["solana"]


def test_new_articles_are_published_on_commit_to_news_and_coin_channels(
    assets, published, django_capture_on_commit_callbacks
):
    now = timezone.now()
    items = [
        FeedItem(url="https://x.test/1", title="Bitcoin and Ethereum rally", published_at=now),
        FeedItem(url="https://x.test/2", title="Regulators meet", published_at=now),
    ]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.articles_ingest(source=_source(), items=items, fetched_at=now)
    assert published == []  # nothing before the commit
    for cb in callbacks:
        cb()
    channels = {c["channel"]: c["items"] for c in published}
    assert set(channels) == {"news", "news:bitcoin", "news:ethereum"}
    assert len(channels["news"]) == 2
    assert [i["url"] for i in channels["news:bitcoin"]] == ["https://x.test/1"]
    event = channels["news"][0]
    assert {"id", "title", "source", "published_at", "coins", "sentiment"} <= set(event)


def test_a_re_run_publishes_nothing(assets, published, django_capture_on_commit_callbacks):
    now = timezone.now()
    item = FeedItem(url="https://x.test/1", title="Bitcoin up", published_at=now)
    source = _source()
    services.articles_ingest(source=source, items=[item], fetched_at=now)
    with django_capture_on_commit_callbacks(execute=True):
        services.articles_ingest(source=source, items=[item], fetched_at=now)
    assert published == []


@respx.mock
def test_polling_records_success_and_failure_on_the_source_row(rss, assets):
    services.sources_seed()
    source = Source.objects.get(slug="coindesk")
    respx.get(source.url).mock(
        side_effect=[
            httpx.Response(200, content=rss("coindesk_rss_2025-12-13_25items.xml")),
            httpx.Response(404),
        ]
    )
    ok = services.source_poll(source=source)
    assert (ok.status, ok.stored) == ("ok", 25)
    source.refresh_from_db()
    assert source.last_success_at is not None and source.error_count == 0
    bad = services.source_poll(source=source)
    assert bad.status == "failed" and "404" in bad.error
    source.refresh_from_db()
    assert source.error_count == 1 and "404" in source.last_error
    assert list(FetchRun.objects.order_by("started_at").values_list("ok", flat=True)) == [
        True,
        False,
    ]


def test_cryptopanic_without_key_is_skipped_not_failed(db):
    services.sources_seed()
    r = services.source_poll(source=Source.objects.get(slug="cryptopanic"))
    assert r.status == "skipped"
    assert Source.objects.get(slug="cryptopanic").error_count == 0


def test_only_enabled_sources_past_their_interval_are_due(db):
    services.sources_seed()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    Source.objects.update(last_polled_at=now)
    Source.objects.filter(slug="decrypt").update(last_polled_at=now - timedelta(hours=1))
    Source.objects.filter(slug="theblock").update(
        last_polled_at=now - timedelta(hours=1), enabled=False
    )
    assert [s.slug for s in services.sources_due(now=now)] == ["decrypt"]


def test_sources_seed_is_idempotent_and_keeps_staff_edits(db):
    assert services.sources_seed() == len(services.DEFAULT_SOURCES)
    Source.objects.filter(slug="decrypt").update(enabled=False, poll_interval_seconds=3600)
    assert services.sources_seed() == 0
    s = Source.objects.get(slug="decrypt")
    assert (s.enabled, s.poll_interval_seconds) == (False, 3600)


def test_daily_sentiment_is_stored_for_finished_days_only(assets):
    day = datetime(2025, 12, 12, tzinfo=UTC)
    items = [
        FeedItem(url="https://x.test/1", title="Bitcoin soars to a record", published_at=day),
        FeedItem(url="https://x.test/2", title="Exchange hacked, funds stolen", published_at=day),
    ]
    services.articles_ingest(source=_source(), items=items, fetched_at=day)
    with time_machine.travel(datetime(2025, 12, 14, tzinfo=UTC)):
        assert services.sentiment_daily_store(day=day.date()) == 2  # overall + bitcoin
        assert services.sentiment_daily_store(day=day.date()) == 2  # idempotent
        with pytest.raises(ValueError, match="finished days"):
            services.sentiment_daily_store(day=datetime(2025, 12, 14).date())
    from news.models import SentimentDaily

    overall = SentimentDaily.objects.get(scope="*")
    assert overall.count == 2
    assert SentimentDaily.objects.get(scope="bitcoin").count == 1


def test_cleanup_deletes_articles_past_retention(assets, settings):
    settings.NEWS_RETENTION_DAYS = 30
    now = timezone.now()
    items = [
        FeedItem(
            url="https://x.test/old", title="Old story", published_at=now - timedelta(days=40)
        ),
        FeedItem(url="https://x.test/new", title="New story", published_at=now),
    ]
    services.articles_ingest(source=_source(), items=items, fetched_at=now)
    assert services.articles_cleanup() == 1
    assert list(Article.objects.values_list("url", flat=True)) == ["https://x.test/new"]


def test_a_parsed_feed_is_stored_with_its_run_in_one_call(rss, assets):
    source = _source("decrypt-test")
    feed = parse_feed(rss("decrypt_rss_2025-12-12_58items.xml"))
    result = services.feed_store(source=source, feed=feed, started=timezone.now())
    assert result.stored == 58
    run = FetchRun.objects.get()
    assert (run.fetched, run.stored, run.duplicates) == (58, 58, 0)
