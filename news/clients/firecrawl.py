"""Firecrawl (``POST /v1/scrape``) for ``POST news/refresh`` when ``FIRECRAWL_API_KEY`` is set.

Firecrawl fetches and renders the page on its side and answers markdown plus metadata:
``{"success": true, "data": {"markdown": "...", "metadata": {"title": ..., "sourceURL": ...,
"statusCode": 200, ...}}}``. The caller checks the user's URL against the SSRF rules *before*
handing it over (``news.services.crawl``); this module only talks to Firecrawl, through
``core.http`` (timeouts, breaker, budget, size cap; retried only when the request never left or
was refused with 429, since every scrape costs credits). The key is sent per call as a Bearer
token, read from settings on each call, never stored in the provider config or logged.

No recorded Firecrawl response exists here: the tests use hand-made payloads in the documented
v1 shape.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ConfigDict, ValidationError

from core.http import InvalidPayload, ProviderConfig, provider_http, register_provider

from ..contracts import CrawledPage
from ..text import plain_text

PROVIDER = "news_firecrawl"


def _config() -> ProviderConfig:
    seconds = float(settings.FIRECRAWL_TIMEOUT_SECONDS)
    return ProviderConfig(
        name=PROVIDER,
        base_url=settings.FIRECRAWL_API_URL.rstrip("/"),
        timeout=seconds,
        connect_timeout=min(seconds, 3.0),
        attempts=2,  # only for requests that never left or got a 429 (post_json)
        total_timeout=seconds + 5,
        budget=int(settings.NEWS_CRAWL_BUDGET_PER_MINUTE),
        budget_window=60,
        headers={"User-Agent": settings.NEWS_USER_AGENT},
    )


register_provider(PROVIDER, _config)


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    title: str | list[str] | None = None
    ogTitle: str | None = None
    author: str | list[str] | None = None
    publishedTime: str | None = None
    sourceURL: str | None = None
    statusCode: int | None = None
    error: str | None = None


class _Data(BaseModel):
    model_config = ConfigDict(extra="ignore")

    markdown: str | None = None
    metadata: _Metadata = _Metadata()


class _Scrape(BaseModel):
    model_config = ConfigDict(extra="ignore")

    success: bool
    data: _Data | None = None
    error: str | None = None


_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_REF_LINK = re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.MULTILINE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~|`+)(?=\S)(.+?)(?<=\S)\1")
_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_LIST = re.compile(r"^\s*(?:[-*+]|\d+\.)\s+", re.MULTILINE)
_QUOTE = re.compile(r"^\s*>\s?", re.MULTILINE)
_RULE = re.compile(r"^\s*([-*_]\s*){3,}$", re.MULTILINE)


def markdown_text(markdown: str) -> str:
    """Firecrawl's markdown -> plain text (links keep their words, images and markup go)."""
    text = _IMAGE.sub("", markdown)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub("", text)
    text = _FENCE.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub("", text)
    text = _QUOTE.sub("", text)
    text = _LIST.sub("", text)
    for _ in range(2):  # nested **_x_**
        text = _EMPHASIS.sub(r"\2", text)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _first(value: str | list[str] | None) -> str:
    if isinstance(value, list):
        return value[0] if value else ""
    return value or ""


def parse_scrape(data: Any, *, url: str) -> CrawledPage:
    try:
        doc = _Scrape.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(
            f"not a Firecrawl scrape response ({exc.error_count()} errors)"
        ) from exc
    if not doc.success or doc.data is None:
        raise InvalidPayload(
            f"Firecrawl could not scrape the page ({doc.error or 'no data'})"[:200]
        )
    meta = doc.data.metadata
    if meta.statusCode is not None and meta.statusCode >= 400:
        raise InvalidPayload(f"the page answered {meta.statusCode} to Firecrawl")
    # Untrusted text either way: markup stripped, then sanitised to plain text like feeds.
    text = plain_text(markdown_text(doc.data.markdown or ""), limit=20000)
    title = plain_text(_first(meta.title) or meta.ogTitle or "", limit=500)
    if not text and not title:
        raise InvalidPayload("no readable article text")
    published = None
    if meta.publishedTime:
        try:
            published = datetime.fromisoformat(meta.publishedTime.replace("Z", "+00:00"))
            published = (
                published.replace(tzinfo=UTC) if published.tzinfo is None else published
            ).astimezone(UTC)
        except ValueError:
            published = None
    return CrawledPage(
        url=url,  # the URL we checked, not one Firecrawl reports
        title=title,
        text=text,
        author=plain_text(_first(meta.author), limit=200),
        published_at=published,
        extractor="firecrawl",
    )


def firecrawl_scrape(*, url: str) -> CrawledPage:
    """Scrape an already SSRF-checked ``url`` through Firecrawl. Raises ``ProviderError``."""
    key = settings.FIRECRAWL_API_KEY
    body = {
        "url": url,
        "formats": ["markdown"],
        "onlyMainContent": True,
        "timeout": int(float(settings.FIRECRAWL_TIMEOUT_SECONDS) * 1000),
    }
    return provider_http(PROVIDER).post_json(  # type: ignore[no-any-return]
        "/v1/scrape",
        json_body=body,
        parse=lambda data: parse_scrape(data, url=url),
        headers={"Authorization": f"Bearer {key}"},
        max_bytes=int(settings.NEWS_CRAWL_MAX_BYTES),
        idempotent=False,
    )
