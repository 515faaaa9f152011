"""CryptoPanic ``/posts/`` JSON -> ``Feed``.

No genuine recorded response exists in the sample data (the ones found online are synthetic
or embed a token): the tests use a hand-made payload in the documented v1 shape.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from core.http import decode_json

from ..contracts import Feed, FeedItem
from ..text import plain_text
from . import InvalidPayload


class _Currency(BaseModel):
    code: str


class _Post(BaseModel):
    title: str
    published_at: datetime
    url: str = ""
    original_url: str = ""
    slug: str = ""
    id: int | None = None
    kind: str = "news"
    currencies: list[_Currency] | None = None


class _Page(BaseModel):
    results: list[_Post]


def parse_posts(body: bytes) -> Feed:
    try:
        doc = _Page.model_validate(decode_json(body))
    except ValidationError as exc:
        raise InvalidPayload(f"not a CryptoPanic page ({exc.error_count()} errors)") from exc
    items, rejected = [], 0
    for post in doc.results:
        url = post.original_url or post.url
        title = plain_text(post.title, limit=500)
        if not url.startswith(("http://", "https://")) or not title:
            rejected += 1
            continue
        when = post.published_at
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        codes = tuple(c.code.upper() for c in post.currencies or ())
        items.append(FeedItem(url=url, title=title, published_at=when, coin_codes=codes))
    return Feed(title="CryptoPanic", items=tuple(items), rejected=rejected)
