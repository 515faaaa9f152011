"""Rough edges a newcomer met on a fresh install (issue 12); each test failed before its fix."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.test_errors import assert_envelope

pytestmark = pytest.mark.django_db


def test_post_to_an_unknown_api_path_is_a_404_envelope_even_with_csrf_enforced():
    client = Client(enforce_csrf_checks=True)
    assert_envelope(client.post("/api/v1/no-such-endpoint", {}), 404, "not_found")


def test_csrf_failure_view_answers_the_envelope_for_api_paths(rf):
    from core.views import csrf_failure

    response = csrf_failure(rf.post("/api/v1/cache/clear"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/json")
    assert b"csrf_failed" in response.content


def test_csrf_failure_outside_the_api_is_still_an_html_page(rf):
    from core.views import csrf_failure

    response = csrf_failure(rf.post("/admin/login/"), reason="CSRF cookie not set.")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")


def test_invalid_bearer_token_is_one_token_not_valid_error(client):
    response = client.get("/api/v1/auth/me", HTTP_AUTHORIZATION="Bearer not.a.jwt")
    body = assert_envelope(response, 401)
    assert body["errors"] == [
        {"code": "token_not_valid", "detail": "Token is invalid or expired.", "attr": None}
    ]


def test_gitignore_lists_the_uv_bootstrap_dir():
    from django.conf import settings

    lines = (settings.BASE_DIR / ".gitignore").read_text().splitlines()
    assert ".tools/" in lines


def test_every_runtime_file_follows_cryptocast_VAR_DIR_with_database_url_alone(tmp_path):
    """DATABASE_URL without REDIS_URL: broker, results, budgets and reports go to the var dir."""
    import json
    import os
    import subprocess
    import sys

    from django.conf import settings

    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "from forecasts.management.commands.backtest import Command;"
        "p = Command().create_parser('manage.py', 'backtest');"
        "print(json.dumps({'broker': s.CELERY_BROKER_URL, 'results': s.CELERY_RESULT_BACKEND,"
        "'budget': s.PROVIDER_BUDGET_SQLITE_PATH, 'static': str(s.STATIC_ROOT),"
        "'backtest': p.get_default('out')}))"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CELERY_BROKER_URL"}} | {
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": "postgres://u:p@127.0.0.1:1/none",
        "CRYPTOCAST_VAR_DIR": str(tmp_path),
    }
    env.pop("CELERY_RESULT_BACKEND", None)
    env.pop("PROVIDER_BUDGET_SQLITE_PATH", None)
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    paths = json.loads(out.strip().splitlines()[-1])
    for name, value in paths.items():
        assert str(tmp_path) in value, f"{name} is written outside CRYPTOCAST_VAR_DIR: {value}"
