"""Health probes of the components the service depends on.

Each probe returns a plain dict and never raises: operators get a reason, not a traceback.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

# Apps above core add their own probes here from AppConfig.ready() (core never imports them).
_EXTRA_PROBES: dict[str, Callable[[], dict[str, Any]]] = {}


def register_probe(name: str, probe: Callable[[], dict[str, Any]]) -> None:
    _EXTRA_PROBES[name] = probe


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def basic() -> dict[str, Any]:
    return {
        "status": "ok",
        "service": settings.SERVICE_NAME,
        "version": settings.VERSION,
        "timestamp": timezone.now().isoformat(),
    }


def check_database(alias: str = "default") -> dict[str, Any]:
    started = time.perf_counter()
    conn = connections[alias]
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable" to an operator
        return {
            "connected": False,
            "vendor": conn.vendor,
            "latency_ms": _ms(started),
            "error": exc.__class__.__name__,
        }
    return {"connected": True, "vendor": conn.vendor, "latency_ms": _ms(started)}


def cache_backend_name() -> str:
    return "redis" if settings.REDIS_URL else "locmem"


def check_cache() -> dict[str, Any]:
    started = time.perf_counter()
    key = f"health:{uuid.uuid4().hex}"
    result: dict[str, Any] = {"backend": cache_backend_name()}
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
    except Exception as exc:
        result.update(connected=False, latency_ms=_ms(started), error=exc.__class__.__name__)
        return result
    result.update(connected=ok, latency_ms=_ms(started))
    if ok and settings.REDIS_URL:
        result["used_memory"] = _redis_used_memory()
    return result


def _redis_used_memory() -> str | None:
    try:
        client = cache._cache.get_client()  # type: ignore[attr-defined]
        return client.info("memory").get("used_memory_human")
    except Exception:
        return None


def check_celery_broker() -> dict[str, Any]:
    """Only whether the broker URL accepts a connection: a worker may legitimately be idle."""
    from config.celery import app

    started = time.perf_counter()
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
    except Exception as exc:
        return {"connected": False, "latency_ms": _ms(started), "error": exc.__class__.__name__}
    return {
        "connected": True,
        "latency_ms": _ms(started),
        "transport": app.conf.broker_url.split(":")[0],
    }


def readiness() -> tuple[bool, dict[str, Any]]:
    """Ready when the database answers; a dead cache only degrades us (reads fall back)."""
    db = check_database()
    cache_state = check_cache()
    body = {
        "status": "ready" if db["connected"] else "not_ready",
        "database": "ok" if db["connected"] else "down",
        "cache": "ok" if cache_state.get("connected") else "degraded",
    }
    return db["connected"], body


def detailed() -> tuple[bool, dict[str, Any]]:
    db = check_database()
    cache_state = check_cache()
    broker = check_celery_broker()
    components: dict[str, Any] = {"database": db, "cache": cache_state, "broker": broker}
    for name, probe in _EXTRA_PROBES.items():
        try:
            components[name] = probe()
        except Exception as exc:
            components[name] = {"ok": False, "error": exc.__class__.__name__}
    healthy = db["connected"]
    status = (
        "ok"
        if healthy and cache_state.get("connected") and broker["connected"]
        else ("degraded" if healthy else "down")
    )
    return healthy, {**basic(), "status": status, "components": components}
