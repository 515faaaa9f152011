"""Reddit JSON listing (``/r/<sub>/hot.json``) -> ``Feed``.

No genuine recorded listing exists in the sample data: the tests use a hand-made payload in
Reddit's documented shape (``{"kind": "Listing", "data": {"children": [{"kind": "t3", ...}]}}``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from core.http import decode_json

from ..contracts import Feed, FeedItem
from ..text import plain_text
from . import InvalidPayload


class _Post(BaseModel):
    id: str
    title: str
    permalink: str
    created_utc: float
    author: str = ""
    selftext: str = ""
    url: str = ""
    stickied: bool = False
    over_18: bool = False


class _Child(BaseModel):
    kind: str
    data: _Post


class _ListingData(BaseModel):
    children: list[_Child]


class _Listing(BaseModel):
    kind: str
    data: _ListingData


def parse_listing(body: bytes) -> Feed:
    try:
        doc = _Listing.model_validate(decode_json(body))
    except ValidationError as exc:
        raise InvalidPayload(f"not a Reddit listing ({exc.error_count()} errors)") from exc
    if doc.kind != "Listing":
        raise InvalidPayload(f"not a Reddit listing (kind {doc.kind!r})")
    items, rejected = [], 0
    for child in doc.data.children:
        post = child.data
        title = plain_text(post.title, limit=500)
        if child.kind != "t3" or post.stickied or post.over_18 or not title:
            rejected += 1
            continue
        items.append(
            FeedItem(
                # The discussion is the article here: the permalink is stable and unique.
                url="https://www.reddit.com" + post.permalink,
                title=title,
                published_at=datetime.fromtimestamp(post.created_utc, tz=UTC),
                summary=plain_text(post.selftext, limit=2000),
                author=post.author[:200],
                language="en",
            )
        )
    return Feed(title="Reddit", items=tuple(items), rejected=rejected)
