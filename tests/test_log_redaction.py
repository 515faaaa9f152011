"""No query string (an OAuth ``code``, a reset token) reaches the JSON log (issue 16, finding 8)."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
import structlog

from core.logging import build_logging_config


@pytest.fixture
def json_log():
    """The production logging config (JSON lines), writing to a buffer."""
    stream = io.StringIO()
    config = build_logging_config(level="INFO", fmt="json")  # also configures structlog
    structlog.configure(cache_logger_on_first_use=False)  # as conftest: capture_logs works
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


def test_django_request_errors_log_the_path_without_the_query(json_log, rf):
    request = rf.get("/api/v1/auth/oauth/google/callback?code=SECRET-CODE&state=s")
    logging.getLogger("django.request").error(
        "Server Error (500): %s", request.path, extra={"request": request, "status_code": 500}
    )
    line = json_log.getvalue()
    assert "SECRET-CODE" not in line
    record = json.loads(line.splitlines()[-1])
    assert record["request"] == "GET /api/v1/auth/oauth/google/callback"


def test_access_lines_lose_their_query_strings(json_log):
    logging.getLogger("daphne.access").warning(
        '"GET /api/v1/auth/oauth/google/callback?code=SECRET-CODE HTTP/1.1" 302 0'
    )
    assert "SECRET-CODE" not in json_log.getvalue()
    assert "/api/v1/auth/oauth/google/callback?[redacted]" in json_log.getvalue()


@pytest.mark.django_db
def test_a_request_with_a_query_string_is_logged_without_it(json_log, client):
    client.get("/api/v1/no-such-endpoint?token=SECRET-TOKEN")
    assert "/api/v1/no-such-endpoint" in json_log.getvalue()
    assert "SECRET-TOKEN" not in json_log.getvalue()
