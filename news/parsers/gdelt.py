"""GDELT DOC 2.0 API bodies (``mode=artlist`` and ``mode=timelinetone``) -> dataclasses."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ValidationError

from core.http import decode_json

from ..contracts import Feed, FeedItem, ToneBin
from ..text import plain_text
from . import InvalidPayload

_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?%)])")
_LANGS = {
    "english": "en",
    "spanish": "es",
    "french": "fr",
    "german": "de",
    "italian": "it",
    "portuguese": "pt",
    "russian": "ru",
    "chinese": "zh",
    "japanese": "ja",
    "greek": "el",
    "korean": "ko",
    "turkish": "tr",
    "arabic": "ar",
    "dutch": "nl",
}


class _Article(BaseModel):
    url: str
    title: str = ""
    seendate: str
    domain: str = ""
    language: str = ""


class _ArtList(BaseModel):
    articles: list[_Article] = []


def parse_seendate(value: str) -> datetime:
    """``20260722T101500Z`` -> aware UTC datetime."""
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError as exc:
        raise InvalidPayload(f"bad seendate {value!r}") from exc


def parse_artlist(body: bytes) -> Feed:
    data = decode_json(body)
    if data == {}:  # GDELT answers {} when nothing matches
        return Feed(title="GDELT", items=())
    try:
        doc = _ArtList.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(f"not a GDELT artlist ({exc.error_count()} errors)") from exc
    items, rejected = [], 0
    for a in doc.articles:
        title = _SPACE_BEFORE_PUNCT.sub(r"\1", plain_text(a.title, limit=500))
        if not a.url.startswith(("http://", "https://")) or not title:
            rejected += 1
            continue
        items.append(
            FeedItem(
                url=a.url,
                title=title,
                published_at=parse_seendate(a.seendate),
                language=_LANGS.get(a.language.lower(), a.language.lower()[:16]),
            )
        )
    return Feed(title="GDELT", items=tuple(items), rejected=rejected)


class _TonePoint(BaseModel):
    date: str
    value: float


class _ToneSeries(BaseModel):
    series: str = ""
    data: list[_TonePoint]


class _Timeline(BaseModel):
    timeline: list[_ToneSeries]


def parse_timelinetone(body: bytes) -> tuple[ToneBin, ...]:
    """``{"query_details":..., "timeline":[{"series":"Average Tone","data":[{date,value}]}]}``.

    No recorded response exists; the shape follows GDELT's documentation (tests say so).
    """
    data = decode_json(body)
    if data == {}:
        return ()
    try:
        doc = _Timeline.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(f"not a GDELT timeline ({exc.error_count()} errors)") from exc
    if not doc.timeline:
        return ()
    return tuple(ToneBin(time=parse_seendate(p.date), tone=p.value) for p in doc.timeline[0].data)
