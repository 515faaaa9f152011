"""Operator endpoints: cache, database, schedule, health history (staff only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from core.cache import TwoTierCache
from core.models import HealthSample, JobRun
from tests.test_errors import assert_envelope

pytestmark = pytest.mark.django_db

STAFF_GETS = ["cache/status", "cache/stats", "cache/smart", "db/status"]
STAFF_POSTS = ["cache/clear", "admin/cache/refresh", "etl/setup-default"]


@pytest.mark.parametrize("path", [*STAFF_GETS, "admin/cache/invalidate?key=x"])
def test_staff_gets_refuse_anonymous_with_401_and_users_with_403(api_client, user, path):
    assert_envelope(api_client.get(f"/api/v1/{path}"), 401)
    api_client.force_authenticate(user=user)
    assert_envelope(api_client.get(f"/api/v1/{path}"), 403)


@pytest.mark.parametrize("path", STAFF_POSTS)
def test_staff_posts_refuse_anonymous_with_401_and_users_with_403(api_client, user, path):
    assert_envelope(api_client.post(f"/api/v1/{path}", {}, format="json"), 401)
    api_client.force_authenticate(user=user)
    assert_envelope(api_client.post(f"/api/v1/{path}", {}, format="json"), 403)


def test_cache_status_counts_keys_by_namespace_and_tier_figures(staff_client):
    cache.set("markets:global:v1", {"x": 1})
    cache.set("markets:trending:v1", {"x": 1})
    tt = TwoTierCache(prefix="opsprobe")
    tt.set("a", 1, ttl=30)
    assert tt.get("a").tier == "l1"
    assert tt.get("missing").tier == ""
    body = staff_client.get("/api/v1/cache/status").json()
    assert body["backend"] in {"locmem", "redis"}
    assert body["keys_by_namespace"]["markets"] == 2
    assert body["keys_by_namespace"]["opsprobe"] == 1
    mine = next(c for c in body["stats"]["two_tier"] if c["prefix"] == "opsprobe")
    assert mine["l1"]["hits"] == 1 and mine["misses"] == 1 and mine["hit_ratio"] == 0.5
    stats = staff_client.get("/api/v1/cache/stats").json()
    assert {"two_tier", "l2", "as_of"} <= set(stats)


def test_cache_clear_needs_confirmation_and_names_the_field(staff_client):
    response = staff_client.post("/api/v1/cache/clear", {"namespace": "markets"}, format="json")
    body = assert_envelope(response, 400)
    assert body["errors"][0]["attr"] == "confirm"
    response = staff_client.post(
        "/api/v1/cache/clear", {"namespace": "Bad Name!", "confirm": True}, format="json"
    )
    assert assert_envelope(response, 400)["errors"][0]["attr"] == "namespace"


def test_cache_clear_deletes_one_namespace_and_says_how_many(staff_client):
    cache.set("markets:global:v1", 1)
    cache.set("markets:trending:v1", 1)
    cache.set("live:prices:usd:top10", 1)
    response = staff_client.post(
        "/api/v1/cache/clear", {"namespace": "markets", "confirm": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["cleared"] == 2
    assert cache.get("markets:global:v1") is None
    assert cache.get("live:prices:usd:top10") == 1


def test_cache_clear_all_keeps_what_is_not_ours(staff_client):
    cache.set("markets:global:v1", 1)
    cache.set("live:x", 1)
    body = staff_client.post(
        "/api/v1/cache/clear", {"namespace": "all", "confirm": True}, format="json"
    ).json()
    assert body["cleared"] >= 2
    assert cache.get("markets:global:v1") is None and cache.get("live:x") is None


def test_cache_invalidate_by_get_and_post(staff_client):
    cache.set("markets:global:v1", 1)
    body = staff_client.get("/api/v1/admin/cache/invalidate", {"key": "markets:global:v1"}).json()
    assert body == {"key": "markets:global:v1", "l2_deleted": True, "l1_dropped": 0}
    body = staff_client.post(
        "/api/v1/admin/cache/invalidate", {"key": "markets:global:v1"}, format="json"
    ).json()
    assert body["l2_deleted"] is False
    bad = staff_client.get("/api/v1/admin/cache/invalidate", {"key": "spaces are bad"})
    assert assert_envelope(bad, 400)["errors"][0]["attr"] == "key"
    assert_envelope(staff_client.get("/api/v1/admin/cache/invalidate"), 400)


def test_cache_refresh_queues_the_task_on_commit(
    staff_client, django_capture_on_commit_callbacks, task_stub
):
    sent = []
    task_stub("core.refresh_caches", lambda *, kwargs, **options: sent.append(options))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/api/v1/admin/cache/refresh")
    assert response.status_code == 202
    body = response.json()
    assert "markets: price board" in body["warmers"]
    assert sent == [{"task_id": body["task_id"]}]


def test_cache_refresh_task_runs_every_warmer_and_reports_failures(monkeypatch):
    from core import services, tasks

    monkeypatch.setattr(services, "_WARMERS", {"good": lambda: 3, "bad": lambda: 1 / 0})
    summary = tasks.refresh_caches.run()
    assert summary["status"] == "success"
    assert summary["result"] == {
        "bad": {"ok": False, "error": "ZeroDivisionError"},
        "good": {"ok": True, "result": 3},
    }
    # like every job, it leaves a run record that etl/jobs and the admin show
    run = JobRun.objects.get(job="core.refresh_caches")
    assert run.status == JobRun.Status.SUCCESS and run.detail["result"] == summary["result"]


def test_a_cache_refresh_that_finds_the_lock_held_is_skipped_and_recorded(monkeypatch):
    from core import tasks
    from core.locks import acquire

    lease = acquire("job:core.refresh_caches", ttl=30)
    assert lease is not None
    try:
        assert tasks.refresh_caches.run()["status"] == "skipped"
    finally:
        lease.release()
    assert JobRun.objects.get(job="core.refresh_caches").status == JobRun.Status.SKIPPED


def test_cache_smart_reports_each_snapshot(staff_client):
    body = staff_client.get("/api/v1/cache/smart").json()
    assert {"markets: price board", "markets: global", "markets: trending"} <= set(
        body["snapshots"]
    )
    assert body["snapshots"]["markets: global"]["present"] is False


def test_db_status_reports_engine_migrations_and_tables(staff_client):
    body = staff_client.get("/api/v1/db/status").json()
    assert body["engine"] in {"sqlite", "postgresql"}
    assert body["version"]
    assert body["migrations"]["applied"] > 10 and body["migrations"]["pending"] == []
    assert body["largest_tables"] and {"table", "rows"} <= set(body["largest_tables"][0])
    assert "connections" in body


def test_etl_setup_default_creates_the_jobs_once(staff_client):
    first = staff_client.post("/api/v1/etl/setup-default", {}, format="json").json()
    assert "core: record health samples" in first["created"]
    second = staff_client.post("/api/v1/etl/setup-default", {}, format="json").json()
    assert second["created"] == [] and "core: record health samples" in second["kept"]


# --- health ---------------------------------------------------------------------------------


def test_health_api_probes_providers_concurrently_within_the_timeout(client, settings, monkeypatch):
    import time

    from core import health

    settings.HEALTH_API_TIMEOUT_SECONDS = 0.5

    def slow():
        time.sleep(0.4)
        return {"ok": True}

    def hung():
        time.sleep(3)
        return {"ok": True}

    monkeypatch.setattr(
        health, "_EXTERNAL_PROBES", {"a": slow, "b": slow, "c": slow, "d": slow, "e": hung}
    )
    started = time.perf_counter()
    body = client.get("/health/api").json()
    elapsed = time.perf_counter() - started
    assert elapsed < 1.2  # one after another would take 4.6 s
    assert body["providers"]["a"]["ok"] is True
    assert body["providers"]["e"] == {
        "ok": False,
        "error": "timeout",
        "reason": "no answer within 0.5 s",
        "latency_ms": 500.0,
    }
    assert body["status"] == "degraded"


def test_health_api_is_503_when_no_provider_answers(client, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "_EXTERNAL_PROBES", {"a": lambda: {"ok": False}})
    assert client.get("/health/api").status_code == 503


def test_record_health_task_stores_one_sample_per_component_and_drops_old_ones(settings):
    from core import tasks

    old = HealthSample.objects.create(
        component="database", at=timezone.now() - timedelta(days=30), ok=True, latency_ms=1
    )
    summary = tasks.record_health.run()
    assert summary["status"] == "success" and summary["result"] >= 5
    assert JobRun.objects.filter(job="core.record_health", status=JobRun.Status.SUCCESS).exists()
    names = set(HealthSample.objects.values_list("component", flat=True))
    assert {"database", "cache", "broker", "model_manifest", "market_providers"} <= names
    assert not HealthSample.objects.filter(pk=old.pk).exists()


def test_health_trends_summarise_availability_and_latency(client):
    now = timezone.now()
    for i, ok in enumerate([True, True, True, False]):
        HealthSample.objects.create(
            component="cache", at=now - timedelta(minutes=i), ok=ok, latency_ms=float(i + 1)
        )
    HealthSample.objects.create(
        component="cache", at=now - timedelta(hours=30), ok=False, latency_ms=100.0
    )
    body = client.get("/health/trends", {"hours": 24}).json()
    cache_trend = body["components"]["cache"]
    assert cache_trend["samples"] == 4 and cache_trend["availability"] == 0.75
    assert cache_trend["latency_ms"]["max"] == 4.0 and cache_trend["latency_ms"]["mean"] == 2.5
    assert client.get("/health/trends", {"hours": 48}).json()["components"]["cache"]["samples"] == 5
    bad = client.get("/health/trends", {"hours": 0})
    assert assert_envelope(bad, 400)["errors"][0]["attr"] == "hours"
    assert_envelope(client.get("/health/trends", {"hours": 10_000}), 400)


def test_health_component_detail_and_404_for_unknown(client):
    HealthSample.objects.create(component="database", at=timezone.now(), ok=True, latency_ms=2.0)
    body = client.get("/health/components/database").json()
    assert body["component"] == "database" and body["ok"] is True
    assert body["now"]["connected"] is True and len(body["history"]) == 1
    assert body["last_24h"]["samples"] == 1
    assert_envelope(client.get("/health/components/nope"), 404, "not_found")


def test_health_detailed_reports_process_figures(client):
    process = client.get("/health/detailed").json()["components"]["process"]
    assert process["rss_bytes"] > 0 and "cpu_percent" in process
    assert process["disk"]["total_bytes"] > 0


def test_health_detailed_does_not_call_an_empty_manifest_fine(client, settings, tmp_path):
    settings.MODEL_ARTIFACTS_DIR = tmp_path  # no manifest, no model
    manifest = client.get("/health/detailed").json()["components"]["model_manifest"]
    assert manifest["ok"] is False


# --- audit rows (core announces through core.signals.staff_action; accounts records) --------


def test_staff_cache_and_schedule_actions_leave_audit_rows(staff_client, staff_user):
    from accounts.models import AuditEvent

    cache.set("markets:global:v1", {"x": 1})
    assert (
        staff_client.post(
            "/api/v1/cache/clear", {"namespace": "markets", "confirm": True}, format="json"
        ).status_code
        == 200
    )
    staff_client.get("/api/v1/admin/cache/invalidate", {"key": "markets:trending:v1"})
    staff_client.post("/api/v1/admin/cache/invalidate", {"key": "live:x"}, format="json")
    task_id = staff_client.post("/api/v1/admin/cache/refresh").json()["task_id"]
    staff_client.post("/api/v1/etl/setup-default", {}, format="json")
    rows = list(
        AuditEvent.objects.order_by("id").values_list("action", "actor", "target_id", "outcome")
    )
    assert rows == [
        ("ops.cache_clear", staff_user.pk, "markets", "success"),
        ("ops.cache_invalidate", staff_user.pk, "markets:trending:v1", "success"),
        ("ops.cache_invalidate", staff_user.pk, "live:x", "success"),
        ("ops.cache_refresh", staff_user.pk, task_id, "success"),
        ("ops.schedule_setup", staff_user.pk, "", "success"),
    ]
    cleared = AuditEvent.objects.get(action="ops.cache_clear")
    assert cleared.data["cleared"] >= 1 and cleared.user is None
    assert AuditEvent.objects.get(action="ops.schedule_setup").data["created"] > 0


def test_refused_or_invalid_ops_calls_leave_no_audit_row(api_client, staff_client, user):
    from accounts.models import AuditEvent

    staff_client.post("/api/v1/cache/clear", {"namespace": "markets"}, format="json")  # no confirm
    staff_client.get("/api/v1/admin/cache/invalidate", {"key": "bad key!"})
    api_client.force_authenticate(user=user)
    api_client.post("/api/v1/cache/clear", {"namespace": "all", "confirm": True}, format="json")
    assert not AuditEvent.objects.exists()


def test_accounts_is_connected_to_cores_staff_action_hook(staff_user):
    from django.test import RequestFactory

    from accounts.models import AuditEvent
    from core.signals import staff_action, staff_action_send

    assert staff_action.has_listeners()
    request = RequestFactory().post("/x", HTTP_USER_AGENT="probe/1", REMOTE_ADDR="10.1.2.3")
    request.user = staff_user
    staff_action_send(action="ops.probe", request=request, data={"api_token": "s3cr3t", "n": 1})
    event = AuditEvent.objects.get(action="ops.probe")
    assert (event.actor_id, event.user_agent, event.data) == (staff_user.pk, "probe/1", {"n": 1})
