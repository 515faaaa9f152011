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


# --- core.logging.emit: the request line's cheaper path renders what structlog renders -------


def _log_to(fmt: str) -> io.StringIO:
    stream = io.StringIO()
    config = build_logging_config(level="INFO", fmt=fmt)
    structlog.configure(cache_logger_on_first_use=False)
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    return stream


@pytest.fixture
def restore_logging():
    yield
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_emit_writes_the_line_a_structlog_logger_writes(fmt, restore_logging):
    from django_guid import set_guid

    from core.logging import emit

    stream = _log_to(fmt)
    set_guid("abc123")
    try:
        fields = {"method": "GET", "path": "/api/v1/prices", "status": 200, "duration_ms": 0.4}
        structlog.get_logger("cryptocast.request").info("request", **fields)
        emit(logging.getLogger("cryptocast.request"), logging.INFO, "request", **fields)
    finally:
        set_guid(None)
    bound, ours = stream.getvalue().splitlines()
    if fmt == "json":
        bound_line, our_line = json.loads(bound), json.loads(ours)
        assert bound_line.pop("timestamp") <= our_line.pop("timestamp")
        assert our_line == bound_line
        assert our_line["request_id"] == "abc123" and our_line["logger"] == "cryptocast.request"
    else:  # console: the same text after the timestamp
        assert bound.split(" ", 1)[1] == ours.split(" ", 1)[1]
        assert "request_id=abc123" in ours


def test_emit_redacts_query_strings_and_respects_the_level(restore_logging):
    from core.logging import emit

    stream = _log_to("json")
    logger = logging.getLogger("cryptocast.request")
    emit(logger, logging.DEBUG, "request", path="/x")  # below INFO: nothing
    emit(logger, logging.WARNING, "request", note="GET /cb?code=SECRET-CODE")
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "warning" and "SECRET-CODE" not in line
    assert record["note"] == "GET /cb?[redacted]"
