"""``POST news/refresh``: crawl one user-given URL (SSRF-checked) into an article.

With ``FIRECRAWL_API_KEY`` set, Firecrawl scrapes the page (after the same SSRF checks of the
URL: we never hand a private or local address to anyone); when Firecrawl fails, the built-in
fetch + trafilatura runs instead and the page says why (``fallback_reason``).
"""

from __future__ import annotations

import dataclasses
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.http import ProviderError

from ..clients.crawl import Resolver, check_url, fetch_page
from ..clients.firecrawl import firecrawl_scrape
from ..contracts import CrawledPage, FeedItem
from ..models import Article, Source
from ..text import canonical_url
from .ingest import articles_ingest
from .sources import sources_seed

CRAWL_SOURCE = "user-submitted"


logger = logging.getLogger("cryptocast.news")


def page_crawl(*, url: str, resolver: Resolver | None = None) -> CrawledPage:
    """Firecrawl when configured (falling back to the built-in fetch), else the built-in fetch.

    Raises ``UnsafeUrl`` (refused, before any request) or ``ProviderError`` (the fetch that
    ran last failed / not HTML / too big).
    """
    if not settings.FIRECRAWL_API_KEY:
        return fetch_page(url, resolver=resolver)
    check_url(url, resolver=resolver)  # Firecrawl gets only URLs we would fetch ourselves
    try:
        return firecrawl_scrape(url=url)
    except ProviderError as exc:
        logger.warning("firecrawl failed, using the built-in fetch: %s", exc.reason)
        page = fetch_page(url, resolver=resolver)
        return dataclasses.replace(page, fallback_reason=f"firecrawl: {exc.reason}")


def article_crawl(
    *, url: str, resolver: Resolver | None = None
) -> tuple[Article, bool, CrawledPage]:
    """Fetch (outside any transaction), then store. Returns (article, created, page).

    Raises ``UnsafeUrl`` (refused) or ``ProviderError`` (fetch failed / not HTML / too big).
    """
    page = page_crawl(url=url, resolver=resolver)
    article, created = _store(
        url=page.url,
        title=page.title or page.url,
        text=page.text,
        author=page.author,
        published=page.published_at,
    )
    return article, created, page


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
    return Article.objects.get(url=canonical_url(url)), False
