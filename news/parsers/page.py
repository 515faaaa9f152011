"""An HTML page's bytes -> the article's title and main text (trafilatura, no fetching)."""

from __future__ import annotations

from datetime import UTC, datetime

from ..contracts import CrawledPage
from ..text import plain_text
from . import InvalidPayload


def parse_page(body: bytes, *, url: str) -> CrawledPage:
    import trafilatura  # heavy (lxml, ~1 s): only the crawl needs it

    try:
        html = body.decode("utf-8")
    except UnicodeDecodeError:
        html = body.decode("latin-1")
    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, favor_precision=True)
    if doc is None:
        raise InvalidPayload("no readable article text")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = (data.get("text") or "").strip()
    title = plain_text(data.get("title"), limit=500)
    if not text and not title:
        raise InvalidPayload("no readable article text")
    published = None
    if data.get("date"):
        try:
            published = datetime.fromisoformat(str(data["date"])).replace(tzinfo=UTC)
        except ValueError:
            published = None
    return CrawledPage(
        url=url,
        title=title,
        text=text[:20000],
        author=plain_text(data.get("author"), limit=200),
        published_at=published,
    )
