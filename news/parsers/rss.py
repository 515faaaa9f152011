"""RSS 2.0 / Atom bytes -> ``Feed``.

The XML is first checked by defusedxml (entity expansion, external entities and DTD tricks
are refused; truncated XML and HTML pages fail here), then read by feedparser from the bytes
(feedparser never fetches anything). Titles and summaries are sanitised to plain text.
"""

from __future__ import annotations

import calendar
import io
from datetime import UTC, datetime

import feedparser
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from ..contracts import Feed, FeedItem
from ..text import plain_text
from . import InvalidPayload

MAX_ITEMS = 500
SUMMARY_LIMIT = 2000


def parse_feed(body: bytes) -> Feed:
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        raise InvalidPayload("HTML instead of a feed")
    try:
        root = fromstring(body, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise InvalidPayload(f"not well-formed XML ({exc.__class__.__name__})") from exc
    tag = root.tag.rsplit("}", 1)[-1].lower()
    if tag not in {"rss", "feed", "rdf"}:
        raise InvalidPayload(f"not a feed (root element <{tag}>)")
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    language = str(parsed.feed.get("language", "") or "")[:16]
    items: list[FeedItem] = []
    rejected = 0
    for entry in parsed.entries[:MAX_ITEMS]:
        link = str(entry.get("link") or "").strip()
        title = plain_text(entry.get("title"), limit=500)
        if not link.startswith(("http://", "https://")) or not title:
            rejected += 1
            continue
        items.append(
            FeedItem(
                url=link,
                title=title,
                published_at=_entry_time(entry),
                summary=plain_text(entry.get("summary"), limit=SUMMARY_LIMIT),
                author=plain_text(entry.get("author"), limit=200),
                language=language,
            )
        )
    return Feed(
        title=plain_text(parsed.feed.get("title"), limit=200), items=tuple(items), rejected=rejected
    )


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    """feedparser's ``*_parsed`` is a UTC struct_time (offsets such as -0500 applied)."""
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None
