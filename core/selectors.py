"""Reads behind the operator endpoints (cache figures, database figures, health history) and
of the job runs and the beat schedule's rows.

Apps above core plug in through the registries in ``core.services`` (cache warmers, cache-first
snapshots) and ``core.health`` (probes); core never imports them.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from prometheus_client import REGISTRY

from . import cachekeys
from .cache import two_tier_caches
from .health import _redis_used_memory, cache_backend_name
from .models import HealthSample, JobRun

# --- cache ----------------------------------------------------------------------------------


def _prometheus(name: str, labels: dict[str, str]) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def l2_stats() -> dict[str, Any]:
    """Hit/miss figures of the shared cache: this process's counts (django-prometheus), and the
    Redis server's own since its start (every process) when Redis is the backend."""
    label = "native_redis" if settings.REDIS_URL else "locmem"
    gets = _prometheus("django_cache_get_total", {"backend": label}) or 0.0
    hits = _prometheus("django_cache_get_hits_total", {"backend": label}) or 0.0
    misses = _prometheus("django_cache_get_misses_total", {"backend": label}) or 0.0
    fails = _prometheus("django_cache_get_fail_total", {"backend": label}) or 0.0
    body: dict[str, Any] = {
        "backend": cache_backend_name(),
        "process": {
            "gets": int(gets),
            "hits": int(hits),
            "misses": int(misses),
            "failures": int(fails),
            "hit_ratio": round(hits / gets, 4) if gets else None,
        },
    }
    if settings.REDIS_URL:
        info = cachekeys.redis_info()
        body["server"] = info
        kh, km = info.get("keyspace_hits"), info.get("keyspace_misses")
        if kh is not None and km is not None and kh + km:
            body["server"]["hit_ratio"] = round(kh / (kh + km), 4)
    return body


def cache_stats() -> dict[str, Any]:
    """Per tier since this process started: L1 (in-process) of every two-tier cache, and L2."""
    return {
        "pid": os.getpid(),
        "two_tier": [c.stats() for c in two_tier_caches()],
        "l2": l2_stats(),
        "as_of": timezone.now(),
    }


def cache_status() -> dict[str, Any]:
    key_scan = cachekeys.scan()
    tiers = [
        {
            "name": "l1",
            "kind": "in-process",
            "caches": [
                {"prefix": c.prefix, "entries": len(c.l1_keys()), "ttl_seconds": c.l1_ttl}
                for c in two_tier_caches()
            ],
        },
        {
            "name": "l2",
            "kind": cache_backend_name(),
            "shared_by_processes": bool(settings.REDIS_URL),
            "keys": key_scan.total,
        },
    ]
    body: dict[str, Any] = {
        "backend": cache_backend_name(),
        "tiers": tiers,
        "keys_by_namespace": key_scan.by_namespace,
        "keys_scan_truncated": key_scan.truncated,
        "stats": cache_stats(),
        "redis_memory": _redis_used_memory() if settings.REDIS_URL else None,
        "as_of": timezone.now(),
    }
    return body


# --- database -------------------------------------------------------------------------------


def _table_rows(conn: Any, *, limit: int) -> list[dict[str, Any]]:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT relname, n_live_tup, pg_total_relation_size(relid) "
                "FROM pg_stat_user_tables ORDER BY n_live_tup DESC LIMIT %s",
                [limit],
            )
            return [
                {"table": t, "rows": int(n), "bytes": int(b), "rows_estimated": True}
                for t, n, b in cursor.fetchall()
            ]
        tables = conn.introspection.table_names(cursor)
        rows = []
        for table in tables:
            # table names come from the database's own catalogue, quoted by the backend
            cursor.execute(f"SELECT count(*) FROM {conn.ops.quote_name(table)}")  # noqa: S608
            rows.append({"table": table, "rows": int(cursor.fetchone()[0]), "bytes": None})
    rows.sort(key=lambda r: -r["rows"])
    return rows[:limit]


def _size_and_version(conn: Any) -> tuple[int | None, str]:
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database()), version()")
            size, version = cursor.fetchone()
            return int(size), str(version)
        if conn.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
            name = str(conn.settings_dict["NAME"])
            size = None
            if name and os.path.exists(name):
                size = sum(
                    os.path.getsize(p)
                    for p in (name, name + "-wal", name + "-shm")
                    if os.path.exists(p)
                )
            return size, version
    return None, conn.vendor


def _connections(conn: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"conn_max_age": conn.settings_dict.get("CONN_MAX_AGE")}
    pool = getattr(conn, "pool", None)
    if pool is not None:
        try:
            stats = pool.get_stats()
            body["pool"] = {
                "min_size": pool.min_size,
                "max_size": pool.max_size,
                "size": stats.get("pool_size"),
                "available": stats.get("pool_available"),
                "waiting": stats.get("requests_waiting"),
            }
        except Exception as exc:
            body["pool"] = {"error": exc.__class__.__name__}
    if conn.vendor == "postgresql":
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() GROUP BY 1"
            )
            body["server"] = {state: int(n) for state, n in cursor.fetchall()}
            cursor.execute("SHOW max_connections")
            body["max_connections"] = int(cursor.fetchone()[0])
    return body


def _migrations(conn: Any) -> dict[str, Any]:
    executor = MigrationExecutor(conn)
    applied = executor.loader.applied_migrations
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"applied": len(applied), "pending": [f"{m.app_label}.{m.name}" for m, _ in plan]}


def _replication_lag(alias: str) -> dict[str, Any] | None:
    conn = connections[alias]
    if conn.vendor != "postgresql":
        return {"alias": alias, "lag_seconds": None, "note": f"not measured on {conn.vendor}"}
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(), "
            "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
        )
        in_recovery, lag = cursor.fetchone()
    return {
        "alias": alias,
        "in_recovery": bool(in_recovery),
        "lag_seconds": float(lag) if lag is not None else None,
    }


def db_status(*, table_limit: int = 10) -> dict[str, Any]:
    conn = connections[DEFAULT_DB_ALIAS]
    started = time.perf_counter()
    size, version = _size_and_version(conn)
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    replicas = [a for a in settings.DATABASES if a != DEFAULT_DB_ALIAS]
    return {
        "engine": conn.vendor,
        "version": version,
        "size_bytes": size,
        "latency_ms": latency_ms,
        "connections": _connections(conn),
        "largest_tables": _table_rows(conn, limit=table_limit),
        "migrations": _migrations(conn),
        "replication": [_replication_lag(a) for a in replicas] or None,
        "as_of": timezone.now(),
    }


# --- health history -------------------------------------------------------------------------


def _p95(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) < 2:
        return values[0]
    return round(statistics.quantiles(values, n=20, method="inclusive")[-1], 2)


def health_trends(*, hours: int, now: datetime | None = None) -> dict[str, Any]:
    """Availability and latency per component over the last ``hours`` of samples."""
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    rows = HealthSample.objects.filter(at__gte=since).values_list("component", "ok", "latency_ms")
    by_component: dict[str, list[tuple[bool, float | None]]] = {}
    for component, ok, latency in rows.iterator():
        by_component.setdefault(component, []).append((ok, latency))
    components = {}
    for name, samples in sorted(by_component.items()):
        latencies = [lat for _, lat in samples if lat is not None]
        up = sum(1 for ok, _ in samples if ok)
        components[name] = {
            "samples": len(samples),
            "availability": round(up / len(samples), 4),
            "latency_ms": {
                "mean": round(statistics.fmean(latencies), 2) if latencies else None,
                "p95": _p95(latencies),
                "max": max(latencies) if latencies else None,
            },
        }
    return {
        "hours": hours,
        "since": since,
        "until": now,
        "sample_every_seconds": settings.HEALTH_SAMPLE_EVERY_SECONDS,
        "components": components,
    }


def health_history(*, component: str, limit: int = 60) -> list[HealthSample]:
    return list(HealthSample.objects.filter(component=component).order_by("-at")[:limit])


# --- job runs and the beat schedule ---------------------------------------------------------


def job_runs(*, job: str | None = None, limit: int = 20) -> list[JobRun]:
    qs = JobRun.objects.all()
    if job:
        qs = qs.filter(job=job)
    return list(qs.order_by("-started_at")[:limit])


def job_runs_for_task(*, task: str, limit: int = 20) -> list[JobRun]:
    """Recent runs of a Celery task (job names start with the task name)."""
    return list(JobRun.objects.filter(job__startswith=task).order_by("-started_at")[:limit])


def job_run_counts(*, since: datetime) -> dict[str, int]:
    """{status: runs started since ``since``}."""
    rows = JobRun.objects.filter(started_at__gte=since).values("status").annotate(n=Count("id"))
    return {r["status"]: r["n"] for r in rows}


def periodic_tasks() -> QuerySet[PeriodicTask]:
    """The beat schedule's rows with their schedules (one query), by name."""
    return PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked").order_by(
        "name"
    )


def periodic_task_get(*, job_id: int) -> PeriodicTask | None:
    return periodic_tasks().filter(pk=job_id).first()


def periodic_task_counts() -> tuple[int, int]:
    """(total, enabled) of the beat rows that are jobs (Celery's own backend cleanup is not)."""
    jobs = PeriodicTask.objects.exclude(task="celery.backend_cleanup")
    return jobs.count(), jobs.filter(enabled=True).count()
