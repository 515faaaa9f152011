"""Daily sentiment rows (overall and per coin), and the retention clean-up."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ..models import Article, SentimentDaily, StoryCluster
from ..sentiment.scorer import scorer_name

OVERALL = "*"


@transaction.atomic
def sentiment_daily_store(*, day: date) -> int:
    """(Re)compute one finished UTC day's rows from that day's articles. Idempotent."""
    if day >= timezone.now().date():
        raise ValueError("only finished days are stored (no look-ahead)")
    start = datetime.combine(day, time.min, tzinfo=UTC)
    rows = Article.objects.filter(
        published_at__gte=start, published_at__lt=start + timedelta(days=1)
    ).prefetch_related("coins")
    buckets: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for a in rows:
        buckets[OVERALL].append((a.sentiment_score, a.sentiment_label))
        for coin in a.coins.all():
            buckets[coin.pk].append((a.sentiment_score, a.sentiment_label))
    SentimentDaily.objects.filter(day=day).delete()
    now = timezone.now()
    scorer = scorer_name()
    SentimentDaily.objects.bulk_create(
        [
            SentimentDaily(
                day=day,
                scope=scope,
                count=len(values),
                mean_score=round(sum(s for s, _ in values) / len(values), 4),
                positive=sum(1 for _, lab in values if lab == "positive"),
                neutral=sum(1 for _, lab in values if lab == "neutral"),
                negative=sum(1 for _, lab in values if lab == "negative"),
                scorer=scorer,
                computed_at=now,
            )
            for scope, values in buckets.items()
        ]
    )
    return len(buckets)


def sentiment_daily_backfill(*, days: int = 7) -> int:
    today = timezone.now().date()
    return sum(sentiment_daily_store(day=today - timedelta(days=i)) for i in range(1, days + 1))


@transaction.atomic
def articles_cleanup(*, older_than_days: int | None = None) -> int:
    """Delete articles past retention (by ``published_at``) and clusters left empty."""
    days = older_than_days if older_than_days is not None else settings.NEWS_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Article.objects.filter(published_at__lt=cutoff).delete()
    StoryCluster.objects.filter(articles__isnull=True, first_seen_at__lt=cutoff).delete()
    return deleted
