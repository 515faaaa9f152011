"""Whole-market figures (``/global``, trending): the provider's answer, kept in the cache by a
background refresh, and read without ever waiting on the network.

``market_overview_refresh`` (the ``markets.refresh_market_overview`` task's body, run by beat
every 120 s) fetches both from the provider into the two-tier cache (``core.cache``). The reads
``market_global``/``market_trending`` answer at once from that cache, else from our stored
quotes with ``fallback_reason`` saying why; when the cached answer is missing or older than its
TTL they queue one refresh (at most once per ``MARKETS_PROVIDER_FAILURE_TTL_SECONDS``).
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.cache import TwoTierCache
from core.enqueue import task_send_on_commit
from core.http import ProviderError
from markets import providers, selectors
from markets.payloads import stale_after

logger = logging.getLogger("cryptocast.markets.overview")
# Under the ``markets`` prefix: ``markets:global:v1`` in the shared cache (ops endpoints name
# them so), each with a ``:failed`` sibling holding the last provider failure.
GLOBAL_KEY = "global:v1"
TRENDING_KEY = "trending:v1"
_QUEUED_KEY = "markets:overview:queued"  # the once-per-window marker (an atomic add)
# A provider answer is kept this many TTLs (served, flagged stale by age, while a refresh runs).
KEEP_TTLS = 30
_NO_ANSWER = "no provider answer yet (refresh queued)"

_cache = TwoTierCache(prefix="markets", l1_ttl=2.0, l1_max_entries=16)


# --- reads ------------------------------------------------------------------------------------


def _cached(key: str) -> Any:
    return _cache.get(key).value


def _refresh_needed(cached: dict[str, Any] | None, ttl: int) -> bool:
    return cached is None or (timezone.now() - cached["fetched_at"]).total_seconds() > ttl


def _queue_refresh_if(needed: bool) -> None:
    if needed:
        market_overview_refresh_enqueue()


def market_global() -> dict[str, Any]:
    """Total market cap, volume and dominance with provenance; never waits on the network.

    The provider's last answer from the cache, else an aggregate of our stored latest quotes
    with ``fallback_reason`` saying why. Unknown figures are null, never 0.
    """
    cached = _cached(GLOBAL_KEY)
    now = timezone.now()
    _queue_refresh_if(_refresh_needed(cached, settings.MARKETS_GLOBAL_TTL_SECONDS))
    if cached is not None:
        return {**cached, "stale": (now - cached["as_of"]) > stale_after()}
    reason = _cached(GLOBAL_KEY + ":failed") or _NO_ANSWER
    db = selectors.global_market_from_db()
    return {
        "total_market_cap": db.total_market_cap,
        "total_volume_24h": db.total_volume_24h,
        "market_cap_change_24h": db.market_cap_change_24h,
        "dominance": db.dominance,
        "active_cryptocurrencies": db.assets,
        "source": "database",
        "as_of": db.as_of,
        "fetched_at": db.fetched_at,
        "stale": db.as_of is None or (now - db.as_of) > stale_after(),
        "fallback_reason": f"{reason}; aggregated from stored quotes",
    }


def market_trending(*, limit: int = 10) -> dict[str, Any]:
    """The provider's trending coins (cached), else our top 24h gainers, with provenance;
    never waits on the network."""
    cached = _cached(TRENDING_KEY)
    now = timezone.now()
    _queue_refresh_if(_refresh_needed(cached, settings.MARKETS_TRENDING_TTL_SECONDS))
    if cached is None:
        reason = _cached(TRENDING_KEY + ":failed") or _NO_ANSWER
        gainers = [
            (a, a.latest_quote)
            for a in selectors.top_movers(category="gainers", window="24h", limit=limit)
            if a.latest_quote is not None
        ]
        return {
            "source": "database",
            "as_of": max((q.as_of for _, q in gainers), default=None),
            "fetched_at": max((q.fetched_at for _, q in gainers), default=None),
            "stale": True,
            "fallback_reason": f"{reason}; top 24h gainers from stored quotes",
            "coins": [
                {
                    "id": a.pk,
                    "symbol": a.symbol,
                    "name": a.name,
                    "score": i,
                    "rank": a.rank,
                    "price": q.price,
                }
                for i, (a, q) in enumerate(gainers)
            ],
        }
    trending = dict(cached)
    trending["coins"] = trending["coins"][:limit]
    trending["stale"] = (now - trending["as_of"]) > timedelta(
        seconds=settings.MARKETS_TRENDING_TTL_SECONDS * 2
    )
    return trending


def market_overview_snapshot(part: str) -> dict[str, Any]:
    """What the cache holds for ``global`` or ``trending`` (``GET cache/smart``)."""
    key = GLOBAL_KEY if part == "global" else TRENDING_KEY
    ttl = (
        settings.MARKETS_GLOBAL_TTL_SECONDS
        if part == "global"
        else settings.MARKETS_TRENDING_TTL_SECONDS
    )
    read = _cache.get(key)
    if not read.hit and not read.l2_ok:
        return {"present": False, "error": "cache unavailable"}
    value = read.value
    body: dict[str, Any] = {
        "present": value is not None,
        "ttl_seconds": ttl,
        "last_failure": _cached(key + ":failed"),
    }
    if value is not None:
        age = (timezone.now() - value["fetched_at"]).total_seconds()
        body.update(
            source=value["source"],
            age_seconds=round(age, 1),
            next_refresh_in_seconds=round(max(ttl - age, 0.0), 1),
        )
    body["refreshed_by"] = "beat: markets: market overview (120 s), or the first read past the TTL"
    return body


# --- the background refresh -------------------------------------------------------------------


def _set(key: str, value: Any, ttl: int) -> None:
    if not _cache.set(key, value, ttl=ttl):  # Redis down: the next read answers from the store
        logger.warning("market overview: cache unavailable, %s not shared", key)


def _failed(key: str, exc: ProviderError) -> str:
    reason = str(getattr(exc, "reason", "") or exc.__class__.__name__)
    _set(key + ":failed", reason, max(settings.MARKETS_GLOBAL_TTL_SECONDS * 2, 60))
    return reason


def _refresh_global() -> str:
    try:
        g = providers.fetch_global()
    except ProviderError as exc:
        return "failed: " + _failed(GLOBAL_KEY, exc)
    _set(
        GLOBAL_KEY,
        {
            "total_market_cap": g.total_market_cap_usd or None,
            "total_volume_24h": g.total_volume_usd or None,
            "market_cap_change_24h": g.market_cap_change_24h,
            "dominance": dict(g.dominance),
            "active_cryptocurrencies": g.active_cryptocurrencies,
            "source": g.source,
            "as_of": g.as_of,
            "fetched_at": g.fetched_at,
            "fallback_reason": "",
        },
        settings.MARKETS_GLOBAL_TTL_SECONDS * KEEP_TTLS,
    )
    return "ok"


def _refresh_trending() -> str:
    try:
        coins = providers.fetch_trending()
    except ProviderError as exc:
        return "failed: " + _failed(TRENDING_KEY, exc)
    now = timezone.now()
    _set(
        TRENDING_KEY,
        {
            "source": coins[0].source if coins else "coingecko",
            "as_of": now,
            "fetched_at": now,
            "fallback_reason": "",
            "coins": [
                {
                    "id": c.asset.slug,
                    "symbol": c.asset.symbol,
                    "name": c.asset.name,
                    "score": c.score,
                    "rank": c.asset.rank,
                    "price": None,
                }
                for c in coins
            ],
        },
        settings.MARKETS_TRENDING_TTL_SECONDS * KEEP_TTLS,
    )
    return "ok"


def market_overview_refresh() -> dict[str, str]:
    """Fetch ``/global`` and trending from the provider into the cache (the task's body)."""
    result = {"global": _refresh_global(), "trending": _refresh_trending()}
    with contextlib.suppress(Exception):  # Redis down: the marker expires by itself
        cache.delete(_QUEUED_KEY)
    return result


def market_overview_refresh_enqueue() -> bool:
    """Queue one background refresh unless one was queued recently; whether it was queued."""
    try:
        fresh = cache.add(_QUEUED_KEY, 1, settings.MARKETS_PROVIDER_FAILURE_TTL_SECONDS)
    except Exception:
        return False
    if not fresh:
        return False
    task_send_on_commit("markets.refresh_market_overview")
    return True


__all__ = [
    "market_global",
    "market_overview_refresh",
    "market_overview_refresh_enqueue",
    "market_overview_snapshot",
    "market_trending",
]
