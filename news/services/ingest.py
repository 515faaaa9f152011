"""Store parsed feed items: canonical URL dedupe, coin tags, sentiment, story clusters.

Re-ingesting the same items writes nothing (the canonical URL is unique and checked first).
New articles are published on commit to ``news`` and ``news:<asset id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from markets import selectors as market_selectors
from streaming import services as streaming_services

from ..contracts import AssetRef, FeedItem
from ..models import Article, Source, StoryCluster
from ..sentiment.scorer import get_model, scorer_name
from ..tagging import CoinTagger
from ..text import canonical_url, overlap, title_fingerprint, title_tokens

CLUSTER_WINDOW = timedelta(hours=72)
CLUSTER_SIMILARITY = 0.4  # overlap coefficient of stemmed content words ...
CLUSTER_MIN_SHARED = 4  # ... with at least this many words in common
FUTURE_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class IngestResult:
    fetched: int
    stored: int
    duplicates: int
    rejected: int
    article_ids: tuple[int, ...] = ()


def coin_tagger() -> CoinTagger:
    assets = (
        market_selectors.asset_list(active_only=True)
        .select_related(None)
        .only("id", "symbol", "name", "rank")
    )
    return CoinTagger(
        [AssetRef(id=a.id, symbol=a.symbol, name=a.name, rank=a.rank) for a in assets]
    )


class _Clusters:
    """Recent stories in memory for one batch. An article joins the cluster of the most
    similar recent article (same fingerprint, or at least 4 shared stemmed content words
    covering 40 % of the shorter title) published within 72 h; else it starts a new one."""

    def __init__(self, since: datetime) -> None:
        self.clusters: dict[int, StoryCluster] = {}
        self.rows: list[tuple[int, str, frozenset[str], datetime]] = []
        recent = (
            Article.objects.filter(published_at__gte=since, cluster__isnull=False)
            .select_related("cluster")
            .order_by("-published_at")[:5000]
        )
        for a in recent:
            assert a.cluster is not None
            self.clusters[a.cluster.pk] = a.cluster
            fp = title_fingerprint(a.title)
            self.rows.append((a.cluster.pk, fp, title_tokens(a.title), a.published_at))

    def assign(self, title: str, when: datetime) -> StoryCluster:
        fp = title_fingerprint(title)
        tokens = title_tokens(title)
        best: int | None = None
        best_sim = 0.0
        for cluster_id, other_fp, other_tokens, other_when in self.rows:
            if abs(other_when - when) > CLUSTER_WINDOW:
                continue
            if other_fp == fp and len(tokens) >= 3:
                best, best_sim = cluster_id, 2.0
                break
            shared, sim = overlap(tokens, other_tokens)
            if shared >= CLUSTER_MIN_SHARED and sim > best_sim:
                best, best_sim = cluster_id, sim
        if best is not None and best_sim >= CLUSTER_SIMILARITY:
            cluster = self.clusters[best]
            StoryCluster.objects.filter(pk=cluster.pk).update(size=F("size") + 1)
        else:
            cluster = StoryCluster.objects.create(
                fingerprint=fp, title=title[:500], first_seen_at=when
            )
            self.clusters[cluster.pk] = cluster
        self.rows.append((cluster.pk, fp, tokens, when))
        return cluster


@transaction.atomic
def articles_ingest(
    *, source: Source, items: Sequence[FeedItem], fetched_at: datetime
) -> IngestResult:
    by_url: dict[str, FeedItem] = {}
    rejected = 0
    for item in items:
        try:
            url = canonical_url(item.url)
        except ValueError:
            rejected += 1
            continue
        if len(url) > 1000 or not item.title:
            rejected += 1
            continue
        by_url.setdefault(url, item)
    existing = set(Article.objects.filter(url__in=list(by_url)).values_list("url", flat=True))
    fresh = [(u, it) for u, it in by_url.items() if u not in existing]
    duplicates = len(items) - rejected - len(fresh)
    if not fresh:
        return IngestResult(fetched=len(items), stored=0, duplicates=duplicates, rejected=rejected)

    model = get_model()
    scorer = scorer_name()
    tagger = coin_tagger()
    earliest = min((it.published_at or fetched_at for _, it in fresh), default=fetched_at)
    clusters = _Clusters(since=min(earliest, fetched_at) - CLUSTER_WINDOW)
    articles: list[Article] = []
    coins: list[tuple[str, ...]] = []
    for url, item in sorted(fresh, key=lambda p: p[1].published_at or fetched_at):
        published = item.published_at or fetched_at
        if published > fetched_at + FUTURE_SLACK:
            published = fetched_at  # a feed's clock in the future is not believed
        verdict = model.score_article(item.title, item.summary)
        tags = list(tagger.tag(f"{item.title}. {item.summary}"))
        for code in item.coin_codes:  # a vendor's own tags, through the same registry
            asset_id = tagger.by_symbol.get(code)
            if asset_id and asset_id not in tags:
                tags.append(asset_id)
        articles.append(
            Article(
                url=url,
                source=source,
                title=item.title[:500],
                summary=item.summary,
                author=item.author[:200],
                published_at=published,
                fetched_at=fetched_at,
                language=item.language[:16],
                sentiment_score=verdict.score,
                sentiment_label=verdict.label,
                scorer=scorer,
                cluster=clusters.assign(item.title, published),
            )
        )
        coins.append(tuple(tags))
    Article.objects.bulk_create(articles)
    if any(coins):
        saved = {a.url: a.pk for a in Article.objects.filter(url__in=[a.url for a in articles])}
        through = Article.coins.through
        through.objects.bulk_create(
            [
                through(article_id=saved[a.url], asset_id=asset_id)
                for a, tags in zip(articles, coins, strict=True)
                for asset_id in tags
            ]
        )
    else:
        saved = {a.url: a.pk for a in Article.objects.filter(url__in=[a.url for a in articles])}
    ids = tuple(saved[a.url] for a in articles)
    payload = [
        article_event(a, saved[a.url], tags) for a, tags in zip(articles, coins, strict=True)
    ]
    transaction.on_commit(lambda: publish_articles(events=payload))
    return IngestResult(
        fetched=len(items),
        stored=len(articles),
        duplicates=duplicates,
        rejected=rejected,
        article_ids=ids,
    )


def article_event(article: Article, pk: int, coins: Iterable[str]) -> dict[str, Any]:
    return {
        "id": pk,
        "title": article.title,
        "url": article.url,
        "source": article.source.slug,
        "published_at": article.published_at.isoformat(),
        "fetched_at": article.fetched_at.isoformat(),
        "coins": list(coins),
        "sentiment": {"label": article.sentiment_label, "score": article.sentiment_score},
        "scorer": article.scorer,
    }


def publish_articles(*, events: Sequence[dict[str, Any]]) -> None:
    """On commit: every new article on ``news``, and on ``news:<asset id>`` per coin tagged."""
    if not events:
        return
    limit = int(getattr(settings, "NEWS_PUBLISH_MAX_ITEMS", 200))
    batch = list(events)[-limit:]
    streaming_services.publish(channel="news", items=batch)
    per_coin: dict[str, list[dict[str, Any]]] = {}
    for event in batch:
        for asset_id in event["coins"]:
            per_coin.setdefault(asset_id, []).append(event)
    for asset_id, items in sorted(per_coin.items()):
        streaming_services.publish(channel=f"news:{asset_id}", items=items)
