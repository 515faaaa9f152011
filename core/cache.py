"""Two-tier cache: an in-process L1 (short TTL, costs nothing) over the Django cache L2
(Redis in services mode, shared by every process).

Redis down must not stall requests: the Django Redis backend uses short socket timeouts
(``REDIS_SOCKET_TIMEOUT``) and, after one L2 failure, L2 is skipped for a back-off window, so
only one request per window pays the timeout. Meanwhile an expired L1 entry is still handed
out, flagged ``stale``, and callers fall back to their database.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from django.core.cache import BaseCache, caches

logger = logging.getLogger("cryptocast.cache")
_MISSING = object()
# Every TwoTierCache of this process, for the ops endpoints (figures, clear, invalidate).
_INSTANCES: weakref.WeakSet[TwoTierCache] = weakref.WeakSet()


def two_tier_caches() -> list[TwoTierCache]:
    return sorted(_INSTANCES, key=lambda c: c.prefix)


@dataclass(frozen=True, slots=True)
class CacheRead:
    value: Any
    tier: str  # "l1", "l2", "l1-stale" or "" (miss)
    l2_ok: bool  # False while L2 is failing or being skipped

    @property
    def hit(self) -> bool:
        return self.tier != ""

    @property
    def stale(self) -> bool:
        return self.tier == "l1-stale"


class TwoTierCache:
    def __init__(
        self,
        *,
        alias: str = "default",
        backend: BaseCache | None = None,
        prefix: str = "tt",
        l1_ttl: float = 2.0,
        l1_max_entries: int = 2048,
        l1_stale_grace: float = 600.0,
        l2_backoff: float = 5.0,
    ) -> None:
        self._alias = alias
        self._backend = backend
        self.prefix = prefix
        self.l1_ttl = l1_ttl
        self.l1_max_entries = l1_max_entries
        self.l1_stale_grace = l1_stale_grace
        self.l2_backoff = l2_backoff
        self._l1: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._l2_down_until = 0.0
        self.l2_failures = 0
        self.started_at = time.time()
        self._zero_counters()
        _INSTANCES.add(self)

    def _zero_counters(self) -> None:
        # Since start (or reset) of this process; plain ints: a lost increment under a race
        # only blurs a figure.
        self.l1_hits = 0
        self.l1_stale_hits = 0
        self.l2_hits = 0
        self.misses = 0
        self.l1_evictions = 0

    def stats(self) -> dict[str, Any]:
        lookups = self.l1_hits + self.l1_stale_hits + self.l2_hits + self.misses
        return {
            "prefix": self.prefix,
            "l1": {
                "entries": len(self._l1),
                "max_entries": self.l1_max_entries,
                "ttl_seconds": self.l1_ttl,
                "hits": self.l1_hits,
                "stale_hits": self.l1_stale_hits,
                "evictions": self.l1_evictions,
            },
            "l2": {
                "hits": self.l2_hits,
                "failures": self.l2_failures,
                "available": self.l2_available(),
            },
            "misses": self.misses,
            "lookups": lookups,
            "hit_ratio": round((lookups - self.misses) / lookups, 4) if lookups else None,
            "since": self.started_at,
        }

    def l1_keys(self) -> list[str]:
        with self._lock:
            return list(self._l1)

    def invalidate_l1(self, full_key: str) -> bool:
        """Drop one L1 entry by its full key (``prefix:key``); whether it was there."""
        with self._lock:
            return self._l1.pop(full_key, None) is not None

    @property
    def l2(self) -> BaseCache:
        return self._backend if self._backend is not None else caches[self._alias]

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{key}"

    # L2 guard ------------------------------------------------------------------------------
    def l2_available(self) -> bool:
        return time.monotonic() >= self._l2_down_until

    def _l2_failed(self, exc: Exception) -> None:
        self.l2_failures += 1
        self._l2_down_until = time.monotonic() + self.l2_backoff
        logger.warning(
            "cache L2 unavailable (%s); skipping it for %.1fs",
            exc.__class__.__name__,
            self.l2_backoff,
        )

    # API -------------------------------------------------------------------------------------
    def get(self, key: str) -> CacheRead:
        k = self._key(key)
        now = time.monotonic()
        expired: Any = _MISSING
        with self._lock:
            entry = self._l1.get(k)
            if entry is not None:
                expires, value = entry
                if now < expires:
                    self._l1.move_to_end(k)
                    self.l1_hits += 1
                    return CacheRead(value, "l1", self.l2_available())
                if now < expires + self.l1_stale_grace:
                    expired = value
                else:
                    del self._l1[k]
        if not self.l2_available():
            return self._without_l2(expired)
        try:
            value = self.l2.get(k, _MISSING)
        except Exception as exc:
            self._l2_failed(exc)
            return self._without_l2(expired)
        if value is _MISSING:
            self.misses += 1
            return CacheRead(None, "", True)
        self._l1_put(k, value, self.l1_ttl)
        self.l2_hits += 1
        return CacheRead(value, "l2", True)

    def _without_l2(self, expired: Any) -> CacheRead:
        if expired is not _MISSING:
            self.l1_stale_hits += 1
            return CacheRead(expired, "l1-stale", False)
        self.misses += 1
        return CacheRead(None, "", False)

    def peek_l1(self, key: str) -> Any | None:
        """The fresh L1 value or None, nothing else (the hot path of cache-first views)."""
        entry = self._l1.get(self._key(key))
        if entry is not None and time.monotonic() < entry[0]:
            self.l1_hits += 1
            return entry[1]
        return None

    def set(self, key: str, value: Any, *, ttl: float, l1_ttl: float | None = None) -> bool:
        """Store in both tiers; returns whether L2 took it (L1 always does)."""
        k = self._key(key)
        self._l1_put(k, value, min(l1_ttl if l1_ttl is not None else self.l1_ttl, ttl))
        if not self.l2_available():
            return False
        try:
            self.l2.set(k, value, timeout=max(int(ttl), 1))
        except Exception as exc:
            self._l2_failed(exc)
            return False
        return True

    def delete(self, key: str) -> None:
        k = self._key(key)
        with self._lock:
            self._l1.pop(k, None)
        if self.l2_available():
            try:
                self.l2.delete(k)
            except Exception as exc:
                self._l2_failed(exc)

    def clear_l1(self) -> None:
        with self._lock:
            self._l1.clear()

    def reset(self) -> None:
        self.clear_l1()
        self._l2_down_until = 0.0
        self.l2_failures = 0
        self._zero_counters()

    def _l1_put(self, k: str, value: Any, ttl: float) -> None:
        with self._lock:
            self._l1[k] = (time.monotonic() + ttl, value)
            self._l1.move_to_end(k)
            while len(self._l1) > self.l1_max_entries:
                self._l1.popitem(last=False)
                self.l1_evictions += 1
