"""Whole-market figures from the provider (``/global``, trending), refreshed in the background.

Reads (``selectors.market_global``/``market_trending``) never wait on the network: they answer
from the cache or the store at once and, when the cached provider answer is missing or older
than its TTL, the view queues ``markets.refresh_market_overview`` (at most once per
``MARKETS_PROVIDER_FAILURE_TTL_SECONDS``). The beat job runs the same refresh on a schedule.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from core.http import ProviderError
from core.services import task_enqueue
from markets.selectors import GLOBAL_KEY, TRENDING_KEY

logger = logging.getLogger("cryptocast.markets.overview")
_QUEUED_KEY = "markets:overview:queued"
# A provider answer is kept this many TTLs (served, flagged stale by age, while a refresh runs).
KEEP_TTLS = 30


def _set(key: str, value: Any, ttl: int) -> None:
    try:
        cache.set(key, value, ttl)
    except Exception:  # Redis down: the next read answers from the store
        logger.warning("market overview: cache unavailable, %s not stored", key)


def _failed(key: str, exc: ProviderError) -> str:
    reason = str(getattr(exc, "reason", "") or exc.__class__.__name__)
    _set(key + ":failed", reason, max(settings.MARKETS_GLOBAL_TTL_SECONDS * 2, 60))
    return reason


def _refresh_global() -> str:
    from markets import providers

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
    from markets import providers

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
    task_enqueue(task="markets.refresh_market_overview")
    return True


__all__ = ["market_overview_refresh", "market_overview_refresh_enqueue"]
