"""Source rows: the defaults, and polling one source (fetch -> ingest -> health figures)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.http import ProviderError

from ..clients import feeds
from ..contracts import Feed
from ..models import FetchRun, Source
from .ingest import IngestResult, articles_ingest

DEFAULT_SOURCES: tuple[dict, ...] = (
    {
        "slug": "coindesk",
        "name": "CoinDesk",
        "kind": Source.Kind.RSS,
        "url": "https://www.coindesk.com/arc/outboundfeeds/rss/",
    },
    {
        "slug": "cointelegraph",
        "name": "Cointelegraph",
        "kind": Source.Kind.RSS,
        "url": "https://cointelegraph.com/rss",
    },
    {
        "slug": "decrypt",
        "name": "Decrypt",
        "kind": Source.Kind.RSS,
        "url": "https://decrypt.co/feed",
    },
    {
        "slug": "theblock",
        "name": "The Block",
        "kind": Source.Kind.RSS,
        "url": "https://www.theblock.co/rss.xml",
    },
    {
        "slug": "bitcoinmagazine",
        "name": "Bitcoin Magazine",
        "kind": Source.Kind.RSS,
        "url": "https://bitcoinmagazine.com/.rss/full/",
    },
    {
        "slug": "cryptopanic",
        "name": "CryptoPanic",
        "kind": Source.Kind.CRYPTOPANIC,
        "url": "https://cryptopanic.com/api/developer/v2/posts/",
        "poll_interval_seconds": 600,
    },
    {
        "slug": "gdelt",
        "name": "GDELT DOC 2.0",
        "kind": Source.Kind.GDELT,
        "url": "https://api.gdeltproject.org/api/v2/doc/doc",
        "query": "(bitcoin OR ethereum OR cryptocurrency) sourcelang:english",
        "poll_interval_seconds": 1800,
    },
    {
        "slug": "reddit-cryptocurrency",
        "name": "r/CryptoCurrency",
        "kind": Source.Kind.REDDIT,
        "url": "https://www.reddit.com/r/CryptoCurrency/hot.json",
        "poll_interval_seconds": 900,
    },
    {
        "slug": "reddit-bitcoin",
        "name": "r/Bitcoin",
        "kind": Source.Kind.REDDIT,
        "url": "https://www.reddit.com/r/Bitcoin/hot.json",
        "poll_interval_seconds": 900,
    },
    {
        "slug": "user-submitted",
        "name": "User-submitted URLs",
        "kind": Source.Kind.CRAWL,
        "url": "https://cryptocast.invalid/crawl",
        "enabled": False,
    },
)


@transaction.atomic
def sources_seed() -> int:
    """Create the default sources that do not exist yet (staff edits are kept). Idempotent."""
    created = 0
    for spec in DEFAULT_SOURCES:
        _, made = Source.objects.get_or_create(slug=spec["slug"], defaults=dict(spec))
        created += int(made)
    return created


def fetch(source: Source) -> Feed:
    """Bytes through core.http, parsed; raises ProviderError or SourceSkipped."""
    if source.kind == Source.Kind.RSS:
        return feeds.fetch_rss(slug=source.slug, url=source.url)
    if source.kind == Source.Kind.REDDIT:
        return feeds.fetch_reddit(slug=source.slug, url=source.url)
    if source.kind == Source.Kind.GDELT:
        return feeds.fetch_gdelt(slug=source.slug, url=source.url, query=source.query)
    if source.kind == Source.Kind.CRYPTOPANIC:
        return feeds.fetch_cryptopanic(slug=source.slug, url=source.url, query=source.query)
    raise feeds.SourceSkipped(f"{source.kind} sources are not polled")


@dataclass(frozen=True)
class PollResult:
    source: str
    status: str  # ok | failed | skipped
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str = ""


def source_poll(*, source: Source, now: datetime | None = None) -> PollResult:
    """Poll one source now. The fetch runs outside any transaction; the write is atomic."""
    started = now or timezone.now()
    try:
        feed = fetch(source)
    except feeds.SourceSkipped as exc:
        Source.objects.filter(pk=source.pk).update(last_polled_at=started, last_error=str(exc))
        return PollResult(source=source.slug, status="skipped", error=str(exc))
    except ProviderError as exc:
        _record_failure(source=source, started=started, error=exc.reason)
        return PollResult(source=source.slug, status="failed", error=exc.reason)
    result = feed_store(source=source, feed=feed, started=started)
    return PollResult(
        source=source.slug,
        status="ok",
        fetched=result.fetched,
        stored=result.stored,
        duplicates=result.duplicates,
        rejected=result.rejected,
    )


@transaction.atomic
def feed_store(*, source: Source, feed: Feed, started: datetime) -> IngestResult:
    """Ingest a parsed feed and record the run and the source's health, in one transaction."""
    result = articles_ingest(source=source, items=feed.items, fetched_at=started)
    finished = timezone.now()
    FetchRun.objects.create(
        source=source,
        started_at=started,
        finished_at=finished,
        ok=True,
        fetched=result.fetched,
        stored=result.stored,
        duplicates=result.duplicates,
        rejected=result.rejected + feed.rejected,
    )
    Source.objects.filter(pk=source.pk).update(
        last_polled_at=started, last_success_at=finished, error_count=0, last_error=""
    )
    return IngestResult(
        fetched=result.fetched,
        stored=result.stored,
        duplicates=result.duplicates,
        rejected=result.rejected + feed.rejected,
        article_ids=result.article_ids,
    )


@transaction.atomic
def _record_failure(*, source: Source, started: datetime, error: str) -> None:
    FetchRun.objects.create(
        source=source, started_at=started, finished_at=timezone.now(), ok=False, error=error[:300]
    )
    Source.objects.filter(pk=source.pk).update(
        last_polled_at=started, error_count=F("error_count") + 1, last_error=error[:300]
    )


def sources_due(*, now: datetime | None = None) -> list[Source]:
    """Enabled, polled sources whose interval has passed (never polled = due)."""
    now = now or timezone.now()
    due = []
    for s in Source.objects.filter(enabled=True).exclude(kind=Source.Kind.CRAWL):
        if (
            s.last_polled_at is None
            or s.last_polled_at + timedelta(seconds=s.poll_interval_seconds) <= now
        ):
            due.append(s)
    return due


def sources_poll_due(*, now: datetime | None = None) -> list[PollResult]:
    return [source_poll(source=s, now=now) for s in sources_due(now=now)]
