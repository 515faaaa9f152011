"""Models of `news`: feed sources, articles, story clusters, fetch runs, daily sentiment.

Sentiment scores are floats in [-1, 1]; counts are integers. All instants are UTC.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Source(models.Model):
    """A feed we poll, managed by staff in the admin (kind, URL, interval, health)."""

    class Kind(models.TextChoices):
        RSS = "rss", "RSS/Atom"
        CRYPTOPANIC = "cryptopanic", "CryptoPanic"
        GDELT = "gdelt", "GDELT DOC 2.0"
        REDDIT = "reddit", "Reddit"
        CRAWL = "crawl", "User-submitted URLs (never polled)"

    slug = models.SlugField(unique=True, max_length=64)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    url = models.URLField(max_length=500, help_text="Feed URL (RSS), subreddit listing or query")
    query = models.CharField(
        max_length=300, blank=True, help_text="GDELT query / CryptoPanic filter"
    )
    enabled = models.BooleanField(default=True)
    poll_interval_seconds = models.PositiveIntegerField(default=900)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    error_count = models.PositiveIntegerField(default=0, help_text="Consecutive failures")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(poll_interval_seconds__gte=60), name="news_source_interval_min"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class StoryCluster(models.Model):
    """Near-duplicate articles (the same story from several outlets) share one cluster."""

    fingerprint = models.CharField(max_length=64, db_index=True)
    title = models.CharField(max_length=500)
    first_seen_at = models.DateTimeField()
    size = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-first_seen_at"]

    def __str__(self) -> str:
        return self.title[:80]


class Article(models.Model):
    """One story at its canonical URL (tracking parameters stripped); plain text only."""

    class Label(models.TextChoices):
        POSITIVE = "positive"
        NEUTRAL = "neutral"
        NEGATIVE = "negative"

    url = models.URLField(max_length=1000, unique=True)
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="articles")
    title = models.CharField(max_length=500)
    summary = models.TextField(blank=True)
    author = models.CharField(max_length=200, blank=True)
    published_at = models.DateTimeField(db_index=True)
    fetched_at = models.DateTimeField()
    language = models.CharField(max_length=16, blank=True)
    coins = models.ManyToManyField("markets.Asset", related_name="+", blank=True)
    sentiment_score = models.FloatField()
    sentiment_label = models.CharField(max_length=8, choices=Label.choices, db_index=True)
    scorer = models.CharField(max_length=64)
    cluster = models.ForeignKey(
        StoryCluster, on_delete=models.SET_NULL, null=True, blank=True, related_name="articles"
    )

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["source", "-published_at"], name="news_article_src_pub")]
        constraints = [
            models.CheckConstraint(
                condition=Q(sentiment_score__gte=-1) & Q(sentiment_score__lte=1),
                name="news_article_score_range",
            )
        ]

    def __str__(self) -> str:
        return self.title[:80]


class FetchRun(models.Model):
    """One poll of one source: what came in, what was new, what failed (pipeline figures)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField()
    ok = models.BooleanField()
    fetched = models.PositiveIntegerField(default=0)
    stored = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        outcome = "ok" if self.ok else "failed"
        return f"{self.source_id} at {self.started_at:%Y-%m-%d %H:%M} ({outcome})"


class SentimentDaily(models.Model):
    """Sentiment of one UTC day's articles, overall (``scope="*"``) or for one asset id.

    Written only for finished days, from articles published that day: a feature built on it
    at day D uses rows of days < D only (no look-ahead).
    """

    day = models.DateField()
    scope = models.CharField(max_length=100)
    count = models.PositiveIntegerField()
    mean_score = models.FloatField()
    positive = models.PositiveIntegerField()
    neutral = models.PositiveIntegerField()
    negative = models.PositiveIntegerField()
    scorer = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "scope"]
        constraints = [
            models.UniqueConstraint(fields=["day", "scope"], name="news_sentiment_daily_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.scope}: {self.mean_score:+.3f} ({self.count})"
