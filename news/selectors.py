"""Reads of `news` (other apps import these). Windows are anchored at the newest stored
article (never later than now), so figures say which period they describe (``window_end``)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from markets import selectors as market_selectors

from .models import Article, FetchRun, SentimentDaily, Source
from .text import STOPWORDS, title_tokens

WINDOWS = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
_TOPIC_STOPWORDS_TEXT = (
    "crypto report daily first more million billion price market us could may about"
)
TOPIC_STOPWORDS = STOPWORDS | frozenset(_TOPIC_STOPWORDS_TEXT.split())


def article_list() -> QuerySet[Article]:
    """Articles with source, cluster and coins (3 queries per page whatever its size)."""
    return (
        Article.objects.select_related("source", "cluster")
        .prefetch_related("coins")
        .order_by("-published_at", "-id")
    )


def article_list_filtered(
    *,
    coin: str | None = None,
    source: str | None = None,
    sentiment: str | None = None,
    q: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Article]:
    qs = article_list()
    if coin:
        qs = qs.filter(coins__id=coin)
    if source:
        qs = qs.filter(source__slug=source)
    if sentiment:
        qs = qs.filter(sentiment_label=sentiment)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(summary__icontains=q))
    if since:
        qs = qs.filter(published_at__gte=since)
    if until:
        qs = qs.filter(published_at__lte=until)
    return qs


def window_end() -> datetime:
    """The newest article's time (or now when there is none), never in the future."""
    now = timezone.now()
    newest = Article.objects.aggregate(m=Max("published_at"))["m"]
    return min(newest, now) if newest else now


# --- sources ---------------------------------------------------------------------------


def source_list() -> list[dict[str, Any]]:
    """Every source with its health and articles per day over the last 7 days of articles."""
    end = window_end()
    week = end - timedelta(days=7)
    counts = dict(
        Article.objects.filter(published_at__gt=week)
        .values_list("source_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    totals = dict(
        Article.objects.values_list("source_id")
        .annotate(n=Count("id"))
        .values_list("source_id", "n")
    )
    out = []
    for s in Source.objects.order_by("slug"):
        out.append(
            {
                "slug": s.slug,
                "name": s.name,
                "kind": s.kind,
                "url": s.url,
                "enabled": s.enabled,
                "poll_interval_seconds": s.poll_interval_seconds,
                "last_polled_at": s.last_polled_at,
                "last_success_at": s.last_success_at,
                "error_count": s.error_count,
                "last_error": s.last_error,
                "healthy": s.enabled and s.error_count == 0 and s.last_success_at is not None,
                "articles": totals.get(s.pk, 0),
                "articles_per_day": round(counts.get(s.pk, 0) / 7, 2),
            }
        )
    return out


# --- trending --------------------------------------------------------------------------


def _growth(now: int, before: int) -> float | None:
    return None if before == 0 else round(now / before - 1, 4)


def trending(*, window: str = "24h", limit: int = 10) -> dict[str, Any]:
    """Coins and title words with the most mentions in the window, vs the previous window."""
    span = WINDOWS[window]
    end = window_end()
    start, prev = end - span, end - 2 * span
    rows = list(
        Article.objects.filter(published_at__gt=prev, published_at__lte=end)
        .prefetch_related("coins")
        .only("id", "title", "published_at")
    )
    coins_now: Counter[str] = Counter()
    coins_before: Counter[str] = Counter()
    words_now: Counter[str] = Counter()
    words_before: Counter[str] = Counter()
    for a in rows:
        current = a.published_at > start
        for c in a.coins.all():
            (coins_now if current else coins_before)[c.pk] += 1
        words = {w for w in title_tokens(a.title) if w not in TOPIC_STOPWORDS and len(w) > 2}
        words -= {w for w in words if w.isdigit()}
        (words_now if current else words_before).update(words)

    def ranked(now: Counter[str], before: Counter[str], key: str) -> list[dict[str, Any]]:
        items = sorted(now.items(), key=lambda kv: (-(kv[1] - before.get(kv[0], 0)), -kv[1], kv[0]))
        return [
            {
                key: k,
                "mentions": n,
                "previous": before.get(k, 0),
                "change": n - before.get(k, 0),
                "growth": _growth(n, before.get(k, 0)),
            }
            for k, n in items[:limit]
            if n >= 2 or key == "coin"
        ]

    return {
        "window": window,
        "window_start": start,
        "window_end": end,
        "articles": sum(1 for a in rows if a.published_at > start),
        "previous_articles": sum(1 for a in rows if a.published_at <= start),
        "coins": ranked(coins_now, coins_before, "coin"),
        "topics": ranked(words_now, words_before, "topic"),
        "source": "stored articles",
        "as_of": end,
    }


# --- sentiment -------------------------------------------------------------------------


def _summary(labels_scores: list[tuple[str, float]]) -> dict[str, Any]:
    n = len(labels_scores)
    pos = sum(1 for lab, _ in labels_scores if lab == "positive")
    neg = sum(1 for lab, _ in labels_scores if lab == "negative")
    return {
        "count": n,
        "mean_score": round(sum(s for _, s in labels_scores) / n, 4) if n else None,
        "positive": pos,
        "neutral": n - pos - neg,
        "negative": neg,
        "share_positive": round(pos / n, 4) if n else None,
        "share_negative": round(neg / n, 4) if n else None,
    }


def sentiment_overview(
    *, window: str = "24h", coin: str | None = None, limit: int = 20
) -> dict[str, Any]:
    """Overall and per-coin sentiment in the window, with the trend vs the previous window."""
    span = WINDOWS[window]
    end = window_end()
    start, prev = end - span, end - 2 * span
    qs = Article.objects.filter(published_at__gt=prev, published_at__lte=end)
    if coin:
        qs = qs.filter(coins__id=coin)
    rows = list(
        qs.prefetch_related("coins").only(
            "id", "sentiment_label", "sentiment_score", "published_at", "scorer"
        )
    )
    now_all: list[tuple[str, float]] = []
    before_all: list[tuple[str, float]] = []
    per_coin: dict[str, tuple[list, list]] = {}
    scorers = set()
    for a in rows:
        pair = (a.sentiment_label, a.sentiment_score)
        current = a.published_at > start
        (now_all if current else before_all).append(pair)
        scorers.add(a.scorer)
        for c in a.coins.all():
            bucket = per_coin.setdefault(c.pk, ([], []))
            bucket[0 if current else 1].append(pair)

    def with_trend(now: list, before: list) -> dict[str, Any]:
        s = _summary(now)
        b = _summary(before)
        s["previous"] = b
        s["trend"] = (
            round(s["mean_score"] - b["mean_score"], 4)
            if s["mean_score"] is not None and b["mean_score"] is not None
            else None
        )
        return s

    coins = sorted(per_coin.items(), key=lambda kv: (-len(kv[1][0]), kv[0]))
    return {
        "window": window,
        "window_start": start,
        "window_end": end,
        "overall": with_trend(now_all, before_all),
        "coins": [
            {"coin": cid, **with_trend(now, before)} for cid, (now, before) in coins[:limit] if now
        ],
        "scorer": ", ".join(sorted(scorers)) or None,
        "source": "stored articles",
        "as_of": end,
    }


def sentiment_daily(*, scope: str = "*", days: int = 30) -> list[SentimentDaily]:
    return list(SentimentDaily.objects.filter(scope=scope).order_by("-day")[:days])


# --- pipeline figures ------------------------------------------------------------------


def pipeline_stats() -> dict[str, Any]:
    sums = ("fetched", "stored", "duplicates", "rejected")
    total = FetchRun.objects.aggregate(
        runs=Count("id"),
        failed=Count("id", filter=Q(ok=False)),
        last_run=Max("finished_at"),
        **{k: Sum(k) for k in sums},
    )
    per = (
        FetchRun.objects.values("source__slug")
        .annotate(
            runs=Count("id"),
            failed=Count("id", filter=Q(ok=False)),
            last_run=Max("finished_at"),
            **{k: Sum(k) for k in sums},
        )
        .order_by("source__slug")
    )
    return {
        "runs": total["runs"],
        "failed_runs": total["failed"],
        **{k: total[k] or 0 for k in sums},
        "articles": Article.objects.count(),
        "last_run": total["last_run"],
        "sources": [
            {
                "source": r["source__slug"],
                "runs": r["runs"],
                "failed_runs": r["failed"],
                "last_run": r["last_run"],
                **{k: r[k] or 0 for k in sums},  # type: ignore[literal-required]
            }
            for r in per
        ],
        "as_of": timezone.now(),
    }


# --- news <-> price ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Stat:
    count: int
    mean: float | None
    median: float | None
    ci95: tuple[float, float] | None


def _stat(values: list[float]) -> _Stat:
    n = len(values)
    if n == 0:
        return _Stat(0, None, None, None)
    mean = sum(values) / n
    ordered = sorted(values)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    if n < 2:
        return _Stat(n, mean, median, None)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    # deferred: SciPy takes seconds to import and only the news-impact study needs it
    from scipy import stats

    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return _Stat(n, mean, median, (mean - half, mean + half))


def news_impact(*, coin: str, limit: int = 200) -> dict[str, Any]:
    """Returns 1 h and 24 h after each article (stored hourly candles), and an event study
    of the next-day return per sentiment label with a Welch test positive vs negative."""
    asset = market_selectors.asset_get(coin)
    articles = list(
        Article.objects.filter(coins__id=asset.pk)
        .select_related("source")
        .order_by("-published_at")[:limit]
    )
    items: list[dict[str, Any]] = []
    by_label: dict[str, list[float]] = {"positive": [], "neutral": [], "negative": []}
    if articles:
        start = min(a.published_at for a in articles) - timedelta(hours=2)
        end = max(a.published_at for a in articles) + timedelta(hours=26)
        frame = market_selectors.candle_frame(asset=asset, interval="1h", start=start, end=end)
        closes = frame["close"] if len(frame) else None
    for a in articles:
        r1 = r24 = None
        if closes is not None:
            base_time = a.published_at.replace(minute=0, second=0, microsecond=0)
            base = closes.get(base_time)
            later1 = closes.get(base_time + timedelta(hours=1))
            later24 = closes.get(base_time + timedelta(hours=24))
            if base and later1:
                r1 = float(later1 / base - 1)
            if base and later24:
                r24 = float(later24 / base - 1)
        if r24 is not None:
            by_label[a.sentiment_label].append(r24)
        items.append(
            {
                "id": a.id,
                "title": a.title,
                "url": a.url,
                "source": a.source.slug,
                "published_at": a.published_at,
                "sentiment": a.sentiment_label,
                "score": a.sentiment_score,
                "return_1h": r1,
                "return_24h": r24,
            }
        )
    table = []
    for label, values in by_label.items():
        s = _stat(values)
        table.append(
            {
                "sentiment": label,
                "count": s.count,
                "mean_return_24h": s.mean,
                "median_return_24h": s.median,
                "ci95": list(s.ci95) if s.ci95 else None,
            }
        )
    pos, neg = by_label["positive"], by_label["negative"]
    p_value = None
    if len(pos) >= 2 and len(neg) >= 2:
        # deferred: SciPy takes seconds to import and only the news-impact study needs it
        from scipy import stats

        p_value = float(stats.ttest_ind(pos, neg, equal_var=False).pvalue)
    aligned = sum(len(v) for v in by_label.values())
    if aligned == 0:
        verdict = (
            "No article of this coin falls inside the stored hourly candles: nothing to align."
        )
    elif p_value is None:
        verdict = "Too few aligned articles per label to test a difference."
    elif p_value < 0.05:
        verdict = (
            f"Positive and negative articles differ in next-day return (Welch p={p_value:.3f})."
        )
    else:
        verdict = (
            f"No significant difference in next-day return between positive and negative "
            f"articles (Welch p={p_value:.3f})."
        )
    return {
        "coin": asset.pk,
        "articles": len(articles),
        "aligned": aligned,
        "event_study": table,
        "welch_p_value_positive_vs_negative": p_value,
        "verdict": verdict,
        "items": items,
        "source": "stored articles and hourly candles",
        "as_of": timezone.now(),
    }


# --- sentiment over time (the dashboard's chart) ----------------------------------------


def sentiment_by_day(*, days: int = 30, coin: str | None = None) -> dict[str, Any]:
    """Mean sentiment and label counts per UTC day of the ``days`` ending at ``window_end``.

    Computed from the stored articles in one grouped query (the ``SentimentDaily`` rollup only
    holds finished days once the daily job has run), so the chart says what it is built on.
    """
    end = window_end()
    start = end - timedelta(days=days)
    qs = Article.objects.filter(published_at__gt=start, published_at__lte=end)
    if coin:
        qs = qs.filter(coins__id=coin)
    rows = (
        qs.annotate(day=TruncDate("published_at"))
        .values("day")
        .annotate(
            count=Count("id"),
            mean_score=Avg("sentiment_score"),
            positive=Count("id", filter=Q(sentiment_label="positive")),
            negative=Count("id", filter=Q(sentiment_label="negative")),
        )
        .order_by("day")
    )
    scorers = sorted(set(qs.values_list("scorer", flat=True).distinct()))
    return {
        "days": [
            {
                "day": r["day"],
                "count": r["count"],
                "mean_score": round(float(r["mean_score"]), 4),
                "positive": r["positive"],
                "negative": r["negative"],
                "neutral": r["count"] - r["positive"] - r["negative"],
            }
            for r in rows
        ],
        "window_start": start,
        "window_end": end,
        "scorer": ", ".join(scorers) or None,
        "source": "stored articles",
        "as_of": end,
    }
