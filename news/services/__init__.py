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

__all__ = [
    "DEFAULT_SOURCES",
    "IngestResult",
    "PollResult",
    "article_crawl",
    "articles_cleanup",
    "articles_ingest",
    "coin_tagger",
    "feed_store",
    "news_samples_load",
    "publish_articles",
    "sentiment_daily_backfill",
    "sentiment_daily_store",
    "source_poll",
    "sources_due",
    "sources_poll_due",
    "sources_seed",
]
