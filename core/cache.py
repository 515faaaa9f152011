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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import BaseCache, caches

logger = logging.getLogger("cryptocast.cache")
_MISSING = object()
T = TypeVar("T")
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

    def put_l1(self, key: str, value: Any, *, ttl: float | None = None) -> None:
        """Store in this process's tier only (what the shared tier said, remembered briefly)."""
        self._l1_put(self._key(key), value, self.l1_ttl if ttl is None else ttl)

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


class GenerationalCache:
    """Built responses in both tiers, under keys that carry a generation counter.

    Writers bump a counter on commit (:meth:`bump`, optionally for one ``scope`` such as an
    asset id); readers key every entry by the counter's current value, so a write is served at
    once by this process and within ``l1_seconds`` by every other (the counter itself is read
    through the same two tiers: a warm hit costs no shared-cache round trip). Entries of old
    generations are never read again and expire with ``ttl_seconds``.

    Only payloads are cached, never errors: a ``build`` that raises caches nothing. A dead
    shared cache only costs speed (every read builds). Settings are read on first use, so a
    test's ``settings`` override applies to a fresh instance (:meth:`reset`).
    """

    def __init__(self, *, prefix: str, l1_seconds: str, ttl_seconds: str) -> None:
        self.prefix = prefix
        self._l1_setting, self._ttl_setting = l1_seconds, ttl_seconds
        self._lock = threading.Lock()
        self._tiers: TwoTierCache | None = None

    def tiers(self) -> TwoTierCache:
        with self._lock:
            if self._tiers is None:
                self._tiers = TwoTierCache(
                    prefix=self.prefix,
                    l1_ttl=float(getattr(settings, self._l1_setting)),
                    l1_max_entries=512,
                )
            return self._tiers

    @staticmethod
    def _counter(scope: str) -> str:
        return f"generation:{scope}" if scope else "generation"

    @staticmethod
    def _entry(name: str, parts: tuple[Any, ...], generation: Any) -> str:
        return f"{name}:" + ":".join(map(str, parts)) + f":g{generation}"

    def generation(self, scope: str = "") -> int:
        """The counter's value: 0 if never bumped, -1 if the shared cache cannot say."""
        tiers = self.tiers()
        read = tiers.get(self._counter(scope))
        if not read.hit:
            if not read.l2_ok:
                return -1
            # never bumped: remember that in this process only (writing 0 to the shared tier
            # could undo another process's bump)
            tiers.put_l1(self._counter(scope), 0)
            return 0
        try:
            return int(read.value)
        except (TypeError, ValueError):
            return 0

    def cached(
        self, name: str, parts: tuple[Any, ...], build: Callable[[], T], *, scope: str = ""
    ) -> T:
        """The cached ``name`` for ``parts`` (in ``scope``'s generation), else ``build()``."""
        return self.cached_with_tier(name, parts, build, scope=scope)[0]

    def cached_with_tier(
        self, name: str, parts: tuple[Any, ...], build: Callable[[], T], *, scope: str = ""
    ) -> tuple[T, str]:
        """Like :meth:`cached`, and which tier answered: ``l1``, ``l2`` or ``miss`` (built)."""
        tiers = self.tiers()
        # the generation is read BEFORE building: a bump while building leaves the entry under
        # the old generation, where nobody reads it again
        key = self._entry(name, parts, self.generation(scope))
        read = tiers.get(key)
        if read.tier in ("l1", "l2"):
            return read.value, read.tier
        value = build()
        tiers.set(key, value, ttl=float(getattr(settings, self._ttl_setting)))
        return value, "miss"

    def peek_l1(self, name: str, parts: tuple[Any, ...], *, scope: str = "") -> Any | None:
        """The entry if this process's tier holds it and its generation, else None: the hot
        path of a view that answers before any other work (no I/O at all)."""
        tiers = self.tiers()
        generation = tiers.peek_l1(self._counter(scope))
        if generation is None:
            return None
        return tiers.peek_l1(self._entry(name, parts, generation))

    def bump(self, scope: str = "") -> None:
        """Invalidate every entry of ``scope`` (call it on commit, after the write)."""
        tiers = self.tiers()
        counter = tiers._key(self._counter(scope))
        try:
            try:
                tiers.l2.incr(counter)
            except ValueError:  # never bumped (or expired): start at 1
                tiers.l2.set(counter, 1, timeout=None)
        except Exception as exc:  # a dead cache only delays freshness until the TTL
            logger.warning("cache bump failed for %s: %s", counter, exc.__class__.__name__)
        tiers.invalidate_l1(counter)  # this process sees its own write at once

    def clear_l1(self) -> None:
        """Forget this process's tier (what another process, or the L1 TTL passing, sees)."""
        self.tiers().clear_l1()

    def reset(self) -> None:
        """Tests: drop the instance (settings are read again on next use)."""
        with self._lock:
            if self._tiers is not None:
                self._tiers.reset()
            self._tiers = None
