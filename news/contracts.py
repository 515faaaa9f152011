"""Frozen dataclasses handed across the news app's boundaries (no Django imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed as a parser read it: plain text, UTC time, the URL as given."""

    url: str
    title: str
    published_at: datetime | None
    summary: str = ""
    author: str = ""
    language: str = ""
    coin_codes: tuple[str, ...] = ()  # codes the vendor itself tagged (CryptoPanic)


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: its items plus the entries rejected (no link, no title, bad date)."""

    title: str
    items: tuple[FeedItem, ...]
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class ToneBin:
    """One GDELT ``timelinetone`` point: the average tone of matching articles at a time."""

    time: datetime
    tone: float


@dataclass(frozen=True, slots=True)
class Sentiment:
    """A scorer's verdict on one text: label and a score in [-1, 1]."""

    label: str  # positive | neutral | negative
    score: float
    probabilities: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AssetRef:
    """What the coin tagger needs to know of an asset (from the markets registry)."""

    id: str
    symbol: str
    name: str
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class CrawledPage:
    """An article fetched from a user-given URL after the SSRF checks."""

    url: str  # final URL after the checked redirects
    title: str
    text: str
    author: str = ""
    published_at: datetime | None = None
    extractor: str = "trafilatura"  # or "firecrawl"
    fallback_reason: str = ""  # why Firecrawl was not used although configured
