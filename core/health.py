"""Health probes of the components the service depends on.

Each probe returns a plain dict and never raises: operators get a reason, not a traceback.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import psutil
from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

# Apps above core add their own probes here from AppConfig.ready() (core never imports them).
_EXTRA_PROBES: dict[str, Callable[[], dict[str, Any]]] = {}


# Probes that cost an outbound request (providers): only /health/api runs them, concurrently.
_EXTERNAL_PROBES: dict[str, Callable[[], dict[str, Any]]] = {}


def register_probe(name: str, probe: Callable[[], dict[str, Any]]) -> None:
    _EXTRA_PROBES[name] = probe


def register_external_probe(name: str, probe: Callable[[], dict[str, Any]]) -> None:
    _EXTERNAL_PROBES[name] = probe


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
    """Only whether the broker URL accepts a connection: a worker may legitimately be idle.

    ``current_app`` is the project's Celery app (``config.celery``, made when the settings
    package loads): core reaches it without importing config."""
    started = time.perf_counter()
    try:
        with current_app.connection_for_write() as conn:
            # one quick retry, no back-off sleep (kombu's default waits 2 s between tries)
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=1)
    except Exception as exc:
        return {"connected": False, "latency_ms": _ms(started), "error": exc.__class__.__name__}
    return {
        "connected": True,
        "latency_ms": _ms(started),
        "transport": current_app.conf.broker_url.split(":")[0],
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


def component_probes() -> dict[str, Callable[[], dict[str, Any]]]:
    """Every cheap component probe by name (the ones the health sampler records)."""
    return {
        "database": check_database,
        "cache": check_cache,
        "broker": check_celery_broker,
        **_EXTRA_PROBES,
    }


def component_ok(result: Mapping[str, Any]) -> bool:
    return bool(result.get("connected", result.get("ok", False)))


def run_probe(probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = dict(probe())
    except Exception as exc:
        result = {"ok": False, "error": exc.__class__.__name__}
    result.setdefault("latency_ms", _ms(started))
    return result


def _in_thread(probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return run_probe(probe)
    finally:
        connections.close_all()  # a worker thread must not keep a connection open


def probe_concurrently(
    probes: Mapping[str, Callable[[], dict[str, Any]]], *, timeout: float
) -> dict[str, dict[str, Any]]:
    """Run every probe at once; one still running after ``timeout`` seconds is reported as
    timed out (and left to finish in the background), so the answer takes ~``timeout`` at most.
    """
    if not probes:
        return {}
    pool = ThreadPoolExecutor(max_workers=min(len(probes), 16), thread_name_prefix="probe")
    try:
        futures = {name: pool.submit(_in_thread, fn) for name, fn in probes.items()}
        wait(futures.values(), timeout=timeout)
        out: dict[str, dict[str, Any]] = {}
        for name, future in futures.items():
            if future.done():
                out[name] = future.result()
            else:
                out[name] = {
                    "ok": False,
                    "error": "timeout",
                    "reason": f"no answer within {timeout:g} s",
                    "latency_ms": round(timeout * 1000, 2),
                }
        return out
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def external() -> tuple[bool, dict[str, Any]]:
    """``/health/api``: every external provider probed concurrently with a short timeout."""
    started = time.perf_counter()
    results = probe_concurrently(_EXTERNAL_PROBES, timeout=settings.HEALTH_API_TIMEOUT_SECONDS)
    up = [n for n, r in results.items() if r.get("ok")]
    down = [n for n, r in results.items() if not r.get("ok") and r.get("configured", True)]
    status = "ok" if up and not down else ("degraded" if up else "down")
    body = {
        **basic(),
        "status": status,
        "providers": results,
        "duration_ms": _ms(started),
        "timeout_seconds": settings.HEALTH_API_TIMEOUT_SECONDS,
    }
    return bool(up), body


def process_figures() -> dict[str, Any]:
    """CPU, memory and disk of this process and its machine (psutil)."""
    proc = psutil.Process(os.getpid())
    with proc.oneshot():
        mem = proc.memory_info()
        body: dict[str, Any] = {
            "pid": proc.pid,
            "cpu_percent": proc.cpu_percent(interval=None),
            "rss_bytes": mem.rss,
            "threads": proc.num_threads(),
            "uptime_seconds": round(time.time() - proc.create_time(), 1),
        }
    vm = psutil.virtual_memory()
    body["system"] = {
        "cpu_count": psutil.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "memory_percent": vm.percent,
        "memory_available_bytes": vm.available,
    }
    try:
        disk = psutil.disk_usage(str(settings.VAR_DIR))
        body["disk"] = {
            "path": str(settings.VAR_DIR),
            "percent": disk.percent,
            "free_bytes": disk.free,
            "total_bytes": disk.total,
        }
    except OSError as exc:
        body["disk"] = {"error": exc.__class__.__name__}
    return body


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
    try:
        components["process"] = {"ok": True, **process_figures()}
    except Exception as exc:
        components["process"] = {"ok": False, "error": exc.__class__.__name__}
    healthy = db["connected"]
    status = (
        "ok"
        if healthy and cache_state.get("connected") and broker["connected"]
        else ("degraded" if healthy else "down")
    )
    return healthy, {**basic(), "status": status, "components": components}
