"""Settings switching, production hardening, metrics, schema, compose file, socket guard."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({
    "db": settings.DATABASES["default"]["ENGINE"],
    "pool": "pool" in settings.DATABASES["default"].get("OPTIONS", {}),
    "conn_max_age": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL.split(":")[0],
    "debug": settings.DEBUG,
}))
"""


def _settings_in_subprocess(env: dict[str, str], module: str = "config.settings.base"):
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    clean.update(env, DJANGO_SETTINGS_MODULE=module)
    return subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_embedded_default_needs_no_services():
    result = _settings_in_subprocess({})
    assert result.returncode == 0, result.stderr
    cfg = json.loads(result.stdout.strip().splitlines()[-1])
    assert cfg["db"].endswith("sqlite3")
    assert cfg["cache"].endswith("LocMemCache")
    assert cfg["layer"] == "channels.layers.InMemoryChannelLayer"
    assert cfg["broker"] == "sqla+sqlite"


def test_services_mode_switches_to_postgres_redis_and_pool():
    result = _settings_in_subprocess(
        {
            "DATABASE_URL": "postgres://u:p@db.example:5432/x",
            "REDIS_URL": "redis://cache.example:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    cfg = json.loads(result.stdout.strip().splitlines()[-1])
    assert cfg["db"].endswith("postgresql")
    assert cfg["pool"] is True
    assert cfg["conn_max_age"] == 0
    assert cfg["cache"].endswith("RedisCache")
    assert cfg["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert cfg["broker"] == "redis"


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {
        "DJANGO_SECRET_KEY": "x" * 60,
        "JWT_SIGNING_KEY": "y" * 60,
        "DJANGO_ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": "postgres://u:p@db.example:5432/x",
    }
    env.pop(missing)
    result = _settings_in_subprocess(env, module="config.settings.production")
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_settings_pass_the_deploy_check():
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY="k" * 20 + "QWERTYuiop1234567890asdfghjkl!@#$%",
        JWT_SIGNING_KEY="j" * 64,
        DJANGO_ALLOWED_HOSTS="cryptocast.example.com",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://u:p@127.0.0.1:1/x"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.smoke
@pytest.mark.django_db
def test_metrics_expose_request_latency_by_view(client):
    client.get("/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert "django_http_requests_latency_seconds_by_view_method" in text
    assert 'view="health"' in text
    assert "django_db_execute_total" in text or "django_db_new_connections_total" in text


@pytest.mark.django_db
def test_metrics_count_responses_by_status_view_and_method(client):
    from prometheus_client import REGISTRY

    def count(status: str) -> float:
        labels = {"status": status, "view": "health-quick", "method": "GET"}
        return (
            REGISTRY.get_sample_value(
                "django_http_responses_total_by_status_view_method_total", labels
            )
            or 0.0
        )

    def latency_count() -> float:
        labels = {"view": "health-quick", "method": "GET"}
        return (
            REGISTRY.get_sample_value(
                "django_http_requests_latency_seconds_by_view_method_count", labels
            )
            or 0.0
        )

    before, observed = count("200"), latency_count()
    client.get("/health/quick")
    client.get("/health/quick")
    assert count("200") == before + 2
    assert latency_count() == observed + 2
    # The series django-prometheus records and nobody reads are no longer updated per request.
    assert REGISTRY.get_sample_value(
        "django_http_responses_total_by_charset_total", {"charset": "utf-8"}
    ) in (None, 0.0)


@pytest.mark.django_db
def test_openapi_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"].startswith("3.")
    assert "/health/ready" in schema["paths"]


@pytest.mark.smoke
@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/docs", "/redoc", "/api/schema/"])
def test_api_docs_are_served_offline(client, path):
    response = client.get(path)
    assert response.status_code == 200
    if path != "/api/schema/":
        assert b"cdn" not in response.content.lower(), "docs must work without internet"


@pytest.mark.django_db
def test_sidecar_static_assets_are_served(client):
    html = client.get("/docs").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_compose_file_defines_every_service_with_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "ws", "worker", "trainer", "beat", "proxy"} <= set(services)
    one_shot = {"migrate"}  # runs to completion; the others wait for it
    for name, service in services.items():
        if name not in one_shot:
            assert "healthcheck" in service, f"{name} has no healthcheck"
        for dep, cond in (service.get("depends_on") or {}).items():
            expected = "service_completed_successfully" if dep in one_shot else "service_healthy"
            assert cond == {"condition": expected}, f"{name} -> {dep}"
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert "daphne" in " ".join(services["ws"]["command"])


def _queues(command: list[str]) -> set[str] | None:
    """The queues a ``celery worker`` command consumes (None: not a worker; {"celery"} when
    no ``-Q`` is given, Celery's default queue)."""
    if command[:4] != ["celery", "-A", "config", "worker"]:
        return None
    for flag in ("-Q", "--queues"):
        if flag in command:
            return set(command[command.index(flag) + 1].split(","))
    return {"celery"}


def test_compose_trainer_consumes_only_the_training_queue_and_scales():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    trainer, web = services["trainer"], services["web"]
    assert _queues(trainer["command"]) == {"training"}
    # the training queue is used by every process that enqueues (web, worker, beat)
    for name in ("web", "ws", "worker", "beat", "trainer", "migrate"):
        assert services[name]["environment"]["FORECAST_TRAINING_QUEUE"] == "training", name
    # nobody else consumes `training`; the default queue still has a consumer
    consumers = {n: _queues(s.get("command") or []) for n, s in services.items()}
    assert {n for n, q in consumers.items() if q and "training" in q} == {"trainer"}
    assert consumers["worker"] == {"celery"}
    assert consumers["web"] is None and consumers["ws"] is None
    # same image, broker and artifact store as the web processes
    for field in ("image", "build", "volumes"):
        assert trainer[field] == web[field], field
    assert trainer["environment"]["REDIS_URL"] == web["environment"]["REDIS_URL"]
    assert "/app/models/artifacts" in " ".join(trainer["volumes"])
    # `--scale trainer=N` needs no fixed name, published port or pinned replica count
    assert not {"container_name", "ports", "hostname"} & set(trainer)
    assert "replicas" not in (trainer.get("deploy") or {})
    assert trainer["command"][trainer["command"].index("--prefetch-multiplier") + 1] == "1"


def test_proxy_routes_streams_to_daphne_and_the_rest_to_gunicorn():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "location /api/v1/stream/" in conf and "http://ws:8001" in conf
    assert "http://web:8000" in conf
    assert "Upgrade" in conf
    # the proxy appends the client to X-Forwarded-For, and every app service trusts one hop
    # (else throttles and lockouts would count every client as the proxy's address)
    assert conf.count("X-Forwarded-For $proxy_add_x_forwarded_for") >= 2
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name in ("web", "ws"):
        assert str(services[name]["environment"]["NUM_PROXIES"]) == "1", name


def test_no_test_can_reach_the_internet():
    with pytest.raises(Exception, match=r"(?i)socket|blocked|network"):
        socket.create_connection(("93.184.216.34", 80), timeout=1)


def test_every_setting_is_in_the_readme_table_and_env_example():
    import re

    used: set[str] = set()
    for path in ROOT.glob("config/settings/*.py"):
        used |= set(re.findall(r'env\.\w+\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text()))
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("settings-table:begin") : readme.index("settings-table:end")]
    env_example = (ROOT / ".env.example").read_text()
    missing_readme = {name for name in used if f"`{name}`" not in table}
    missing_env = {name for name in used if f"#{name}=" not in env_example}
    hint = "run: python scripts/settings_table.py"
    assert missing_readme == set(), hint
    assert missing_env == set(), hint
