"""``POST news/refresh``: crawl one user-given URL (SSRF-checked) into an article."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from ..clients.crawl import Resolver, fetch_page
from ..contracts import FeedItem
from ..models import Article, Source
from .ingest import articles_ingest
from .sources import sources_seed

CRAWL_SOURCE = "user-submitted"


def article_crawl(*, url: str, resolver: Resolver | None = None) -> tuple[Article, bool]:
    """Fetch (outside any transaction), then store. Returns (article, created).

    Raises ``UnsafeUrl`` (refused) or ``ProviderError`` (fetch failed / not HTML / too big).
    """
    page = fetch_page(url, resolver=resolver)
    return _store(
        url=page.url,
        title=page.title or page.url,
        text=page.text,
        author=page.author,
        published=page.published_at,
    )


@transaction.atomic
def _store(*, url, title, text, author, published) -> tuple[Article, bool]:  # type: ignore[no-untyped-def]
    source = Source.objects.filter(slug=CRAWL_SOURCE).first()
    if source is None:
        sources_seed()
        source = Source.objects.get(slug=CRAWL_SOURCE)
    item = FeedItem(
        url=url, title=title[:500], published_at=published, summary=text[:2000], author=author
    )
    result = articles_ingest(source=source, items=[item], fetched_at=timezone.now())
    if result.article_ids:
        return Article.objects.get(pk=result.article_ids[0]), True
    from ..text import canonical_url

    return Article.objects.get(url=canonical_url(url)), False
