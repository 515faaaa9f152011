"""A coin's news tone over time from GDELT DOC 2.0 (``mode=timelinetone``), cached with its
provenance.

GDELT's "average tone" is its own scale (roughly -10..+10, most values within -5..+5) over
every article it saw matching the query, in every language: a second opinion beside our own
scorer's [-1, 1] on the articles we stored, never mixed with it. The series is fetched through
``core.http`` (``clients.feeds.fetch_gdelt_tone``: timeouts, retries, the GDELT breaker and
budget, size cap) and kept in the shared cache: fresh for ``NEWS_GDELT_TONE_FRESH_SECONDS``,
then served as ``stale`` (with the reason) while GDELT cannot be reached, for up to
``NEWS_GDELT_TONE_KEEP_SECONDS``. Nothing cached and GDELT down is a clean 503 upstream.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from core.http import ProviderError
from markets import selectors as market_selectors

from ..clients.feeds import fetch_gdelt_tone

logger = logging.getLogger("cryptocast.news")

SOURCE = "gdelt"
TIMESPANS = ("1d", "7d", "30d", "90d")
SCALE = "GDELT average tone (about -10..+10), not the [-1, 1] score of our own scorer"


class ToneUnavailable(Exception):
    """GDELT could not be reached and no earlier series is cached."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def tone_query(*, name: str, symbol: str) -> str:
    """GDELT query for a coin: its name as a phrase, plus the ticker when GDELT accepts it
    (keywords shorter than 3 characters are refused by the API) and it is not the name."""
    terms = [f'"{name}"']
    if len(symbol) >= 3 and symbol.lower() != name.lower():
        terms.append(f'"{symbol}"')
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def _key(coin: str, timespan: str) -> str:
    return f"news:gdelt-tone:v1:{coin}:{timespan}"


def _cached(coin: str, timespan: str) -> dict[str, Any] | None:
    try:
        return cache.get(_key(coin, timespan))  # type: ignore[no-any-return]
    except Exception:  # a dead cache costs a fetch, never the answer
        logger.warning("gdelt tone: cache unavailable")
        return None


def _summary(points: list[dict[str, Any]]) -> float | None:
    if not points:
        return None
    return round(sum(p["tone"] for p in points) / len(points), 4)


def _answer(entry: dict[str, Any], *, stale: bool, reason: str = "") -> dict[str, Any]:
    points = entry["points"]
    body = {
        **{k: entry[k] for k in ("coin", "query", "timespan", "fetched_at")},
        "points": points,
        "count": len(points),
        "mean_tone": _summary(points),
        "scale": SCALE,
        "source": SOURCE,
        "as_of": points[-1]["time"] if points else entry["fetched_at"],
        "stale": stale,
    }
    if reason:
        body["fallback_reason"] = reason
    return body


def gdelt_tone(*, coin: str, timespan: str = "7d", now: datetime | None = None) -> dict[str, Any]:
    """Tone of ``coin`` (an asset id or symbol) over ``timespan``. Raises
    ``market_selectors.AssetNotFound`` and ``ToneUnavailable``."""
    if timespan not in TIMESPANS:
        raise ValueError(f"timespan must be one of {', '.join(TIMESPANS)}")
    asset = market_selectors.asset_get(coin)
    now = now or datetime.now(UTC)
    entry = _cached(asset.pk, timespan)
    if entry is not None:
        age = (now - datetime.fromisoformat(entry["fetched_at"])).total_seconds()
        if age < float(settings.NEWS_GDELT_TONE_FRESH_SECONDS):
            return _answer(entry, stale=False)
    query = tone_query(name=asset.name, symbol=asset.symbol)
    try:
        bins = fetch_gdelt_tone(query=query, timespan=timespan)
    except ProviderError as exc:
        if entry is not None:
            return _answer(entry, stale=True, reason=f"gdelt: {exc.reason}")
        raise ToneUnavailable(f"gdelt: {exc.reason}", retry_after=exc.retry_after) from exc
    entry = {
        "coin": asset.pk,
        "query": query,
        "timespan": timespan,
        "fetched_at": now.isoformat(),
        "points": [{"time": b.time.isoformat(), "tone": round(b.tone, 4)} for b in bins],
    }
    try:
        cache.set(
            _key(asset.pk, timespan), entry, timeout=int(settings.NEWS_GDELT_TONE_KEEP_SECONDS)
        )
    except Exception:
        logger.warning("gdelt tone: cache unavailable, series not kept")
    return _answer(entry, stale=False)


def gdelt_tone_cached(*, coin: str, timespan: str = "7d") -> dict[str, Any] | None:
    """The last series fetched for ``coin`` (an asset id), never a fetch: for answers that
    must not wait on GDELT (``news/sentiment``). ``stale`` says whether it is past fresh."""
    entry = _cached(coin, timespan)
    if entry is None:
        return None
    age = (datetime.now(UTC) - datetime.fromisoformat(entry["fetched_at"])).total_seconds()
    return _answer(entry, stale=age >= float(settings.NEWS_GDELT_TONE_FRESH_SECONDS))
