"""The forecast API's response cache: ``core.cache``'s two tiers (an in-process L1 over the
shared cache), keyed so that a write is served at once.

A key holds the manifest's signature (a promotion or a rebuilt manifest changes it) and a
generation counter that every forecasts write bumps on commit (:func:`bump_generation`). The
counter is read through the same two tiers, so a warm hit costs no shared-cache round trip
and a bump reaches every process within ``FORECAST_API_L1_SECONDS`` (this process at once).

Only payloads are cached, never errors: a ``build`` that raises caches nothing. A dead shared
cache only costs speed: a miss is built from the database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from django.conf import settings
from django.core.cache import cache

from core.cache import TwoTierCache
from mlserving import selectors as ml_selectors

log = structlog.get_logger(__name__)
T = TypeVar("T")

PREFIX = "forecasts:api"
_GENERATION = "generation"
#: the counter's key in the shared cache (``TwoTierCache`` stores ``<prefix>:<key>``)
GENERATION_KEY = f"{PREFIX}:{_GENERATION}"

_lock = threading.Lock()
_instance: TwoTierCache | None = None


def _cache() -> TwoTierCache:
    """The process-wide cache of forecast responses (settings read on first use)."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = TwoTierCache(
                prefix=PREFIX, l1_ttl=float(settings.FORECAST_API_L1_SECONDS), l1_max_entries=512
            )
        return _instance


def _generation(tt: TwoTierCache) -> int:
    read = tt.get(_GENERATION)
    if not read.hit:
        return 0 if read.l2_ok else -1  # never bumped / shared cache down
    try:
        return int(read.value)
    except (TypeError, ValueError):
        return 0


def cached(name: str, parts: tuple[Any, ...], build: Callable[[], T]) -> T:
    """The cached response ``name`` for ``parts``, else ``build()``, stored in both tiers."""
    tt = _cache()
    key = (
        f"{name}:{ml_selectors.manifest_signature()}:"
        + ":".join(map(str, parts))
        + f":g{_generation(tt)}"
    )
    read = tt.get(key)
    if read.tier in ("l1", "l2"):
        return read.value  # type: ignore[no-any-return]
    value = build()
    tt.set(key, value, ttl=float(settings.FORECAST_API_CACHE_SECONDS))
    return value


def bump_generation() -> None:
    """Invalidate every cached forecast response (called on commit after writes)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, timeout=None)
    except Exception as exc:  # a dead cache only delays freshness until the TTL
        log.warning("forecasts.cache_bump_failed", error=exc.__class__.__name__)
    _cache().invalidate_l1(GENERATION_KEY)  # this process sees its own write at once


def clear_l1() -> None:
    """Forget this process's tier (what another process, or the L1 TTL passing, sees)."""
    _cache().clear_l1()


def reset() -> None:
    """Tests: empty L1, forget an L2 back-off and the counters."""
    _cache().reset()
