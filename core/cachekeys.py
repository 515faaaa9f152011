"""Raw key access to the shared (L2) Django cache, for the ops endpoints.

Only our own keys are touched: in services mode Redis also holds the Celery broker and the
locks (``cc:lock:*``, outside Django's key format), so nothing here ever calls ``FLUSHDB`` or
``cache.clear()``; it scans ``<KEY_PREFIX>:<VERSION>:*`` and deletes what it found. Scans are
bounded (``max_keys``) so a huge keyspace cannot stall a request.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.cache import BaseCache, caches

_NAMESPACE = re.compile(r"[A-Za-z0-9]+")
SCAN_MAX_KEYS = 100_000


def namespace_of(key: str) -> str:
    """``live:prices:usd`` -> ``live``; ``throttle_user_1`` -> ``throttle``."""
    m = _NAMESPACE.match(key)
    return m.group(0).lower() if m else "other"


def backend_kind(backend: BaseCache | None = None) -> str:
    backend = backend or caches["default"]
    name = type(backend).__module__ + "." + type(backend).__name__
    if "redis" in name.lower():
        return "redis"
    if "locmem" in name.lower():
        return "locmem"
    return type(backend).__name__


def redis_client(backend: BaseCache | None = None) -> Any:
    backend = backend or caches["default"]
    return backend._cache.get_client(None, write=True)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class KeyScan:
    by_namespace: dict[str, int]
    total: int
    truncated: bool


def _made_prefix(backend: BaseCache) -> str:
    return backend.make_key("")


def iter_keys(*, backend: BaseCache | None = None, max_keys: int = SCAN_MAX_KEYS) -> Iterator[str]:
    """Logical keys (as the app wrote them) of our L2 entries, at most ``max_keys``."""
    backend = backend or caches["default"]
    kind = backend_kind(backend)
    prefix = _made_prefix(backend)
    n = 0
    if kind == "redis":
        for raw in redis_client(backend).scan_iter(match=prefix + "*", count=1000):
            key = raw.decode() if isinstance(raw, bytes) else raw
            yield key[len(prefix) :]
            n += 1
            if n >= max_keys:
                return
    elif kind == "locmem":
        with backend._lock:  # type: ignore[attr-defined]
            made = list(backend._cache)  # type: ignore[attr-defined]
        for key in made[:max_keys]:
            if key.startswith(prefix):
                yield key[len(prefix) :]


def scan(*, backend: BaseCache | None = None, max_keys: int = SCAN_MAX_KEYS) -> KeyScan:
    counts: Counter[str] = Counter()
    total = 0
    for key in iter_keys(backend=backend, max_keys=max_keys):
        counts[namespace_of(key)] += 1
        total += 1
    return KeyScan(dict(sorted(counts.items())), total, total >= max_keys)


def delete_keys(keys: list[str], *, backend: BaseCache | None = None) -> int:
    backend = backend or caches["default"]
    deleted = 0
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        backend.delete_many(chunk)
        deleted += len(chunk)
    return deleted


def redis_info(backend: BaseCache | None = None) -> dict[str, Any]:
    """Memory and keyspace figures of the Redis server behind the cache (never raises)."""
    try:
        client = redis_client(backend)
        memory = client.info("memory")
        stats = client.info("stats")
    except Exception as exc:
        return {"available": False, "error": exc.__class__.__name__}
    return {
        "available": True,
        "used_memory": memory.get("used_memory"),
        "used_memory_human": memory.get("used_memory_human"),
        "maxmemory": memory.get("maxmemory"),
        "maxmemory_policy": memory.get("maxmemory_policy"),
        "keyspace_hits": stats.get("keyspace_hits"),
        "keyspace_misses": stats.get("keyspace_misses"),
        "evicted_keys": stats.get("evicted_keys"),
        "expired_keys": stats.get("expired_keys"),
    }
