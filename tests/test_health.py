"""Operations endpoints: liveness, readiness and per-component probes."""

from unittest import mock

import pytest
from django.db import OperationalError, connections

pytestmark = pytest.mark.django_db

DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
    }
}


@pytest.fixture
def database_down():
    with mock.patch.object(
        connections["default"], "cursor", side_effect=OperationalError("could not connect")
    ):
        yield


@pytest.mark.smoke
def test_health_reports_service_version_and_time(client):
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert body["service"] == "cryptocast"
    assert body["version"]
    assert body["timestamp"].endswith("+00:00")


@pytest.mark.smoke
@pytest.mark.parametrize("path", ["/health/quick", "/health/live"])
def test_cheap_probes_answer_200(client, path):
    assert client.get(path).status_code == 200


def test_live_stays_200_when_the_database_is_down(client, database_down):
    assert client.get("/health/live").status_code == 200


@pytest.mark.smoke
def test_db_probe_reports_latency(client):
    body = client.get("/health/db").json()
    assert body["connected"] is True
    assert body["latency_ms"] >= 0


def test_db_probe_is_503_when_unreachable(client, database_down):
    response = client.get("/health/db")
    assert response.status_code == 503
    assert response.json()["connected"] is False
    assert response.json()["error"] == "OperationalError"


@pytest.mark.smoke
def test_cache_probe_names_the_backend(client, settings):
    body = client.get("/health/cache").json()
    assert body["connected"] is True
    assert body["backend"] == ("redis" if settings.REDIS_URL else "locmem")
    if settings.REDIS_URL:
        assert body["used_memory"]


def test_cache_probe_is_503_when_redis_is_unreachable(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = DEAD_REDIS
    response = client.get("/health/cache")
    assert response.status_code == 503
    assert response.json()["connected"] is False


@pytest.mark.smoke
def test_ready_when_database_and_cache_answer(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "cache": "ok"}


def test_not_ready_when_the_database_is_unreachable(client, database_down):
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_ready_but_degraded_when_only_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CACHES = DEAD_REDIS
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["cache"] == "degraded"


def test_detailed_lists_every_component(client):
    body = client.get("/health/detailed").json()
    assert {"database", "cache", "broker"} <= set(body["components"])
    assert body["components"]["database"]["connected"] is True


def test_detailed_is_503_with_the_database_down(client, database_down):
    response = client.get("/health/detailed")
    assert response.status_code == 503
    assert response.json()["status"] == "down"


def test_detailed_includes_registered_app_probes(client):
    from core import health

    health.register_probe("example", lambda: {"ok": True})
    try:
        assert client.get("/health/detailed").json()["components"]["example"] == {"ok": True}
    finally:
        health._EXTRA_PROBES.pop("example")


def test_a_failing_app_probe_is_reported_not_raised(client):
    from core import health

    def broken():
        raise ValueError("boom")

    health.register_probe("broken", broken)
    try:
        body = client.get("/health/detailed").json()
    finally:
        health._EXTRA_PROBES.pop("broken")
    assert body["components"]["broken"] == {"ok": False, "error": "ValueError"}


def test_probes_are_never_cached(client):
    assert client.get("/health/ready")["Cache-Control"] == "no-store"
