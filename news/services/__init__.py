"""Writes of `news` (other apps import from here)."""

from .crawl import article_crawl
from .ingest import IngestResult, articles_ingest, coin_tagger, publish_articles
from .rollup import articles_cleanup, sentiment_daily_backfill, sentiment_daily_store
from .samples import news_samples_load
from .sources import (
    DEFAULT_SOURCES,
    PollResult,
    feed_store,
    source_poll,
    sources_due,
    sources_poll_due,
    sources_seed,
)
from .tone import TIMESPANS, ToneUnavailable, gdelt_tone, gdelt_tone_cached

__all__ = [
    "DEFAULT_SOURCES",
    "TIMESPANS",
    "IngestResult",
    "PollResult",
    "ToneUnavailable",
    "article_crawl",
    "articles_cleanup",
    "articles_ingest",
    "coin_tagger",
    "feed_store",
    "gdelt_tone",
    "gdelt_tone_cached",
    "news_samples_load",
    "publish_articles",
    "sentiment_daily_backfill",
    "sentiment_daily_store",
    "source_poll",
    "sources_due",
    "sources_poll_due",
    "sources_seed",
]
