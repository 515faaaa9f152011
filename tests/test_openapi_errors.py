"""The schema documents the error envelope and, per operation, the errors it can return
(core.openapi.AutoSchema); the schema view's own errors answer the envelope (issue 16)."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

ENVELOPE = {"$ref": "#/components/schemas/ErrorEnvelope"}


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _codes(schema: dict, path: str, method: str) -> set[str]:
    return set(schema["paths"][path][method]["responses"])


def _body(schema: dict, path: str, method: str, code: str) -> dict:
    return schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]


def test_the_envelope_is_a_component_with_every_field_required(schema):
    envelope = schema["components"]["schemas"]["ErrorEnvelope"]
    assert set(envelope["required"]) == {"type", "status", "errors", "request_id"}
    item = schema["components"]["schemas"]["ErrorItem"]
    assert set(item["required"]) == {"code", "detail", "attr"}
    assert item["properties"]["attr"]["nullable"] is True


def test_codes_follow_the_view(schema):
    # Signed-in, throttled, filtered list: 400 (its query), 401, 429; IsAuthenticated -> no 403.
    alerts = _codes(schema, "/api/v1/alerts", "get")
    assert {"400", "401", "429"} <= alerts and "403" not in alerts
    # Staff only: 403 too; a body: 413.
    assert {"401", "403"} <= _codes(schema, "/api/v1/admin/cache/invalidate", "post")
    assert "413" in _codes(schema, "/api/v1/alerts/{id}", "patch")
    # No parameter, no authentication, no throttle: none of those.
    live = _codes(schema, "/health/live", "get")
    assert not {"400", "401", "403", "429"} & live
    # Cache-first reads and Google routes declare their 503; the body is the envelope.
    assert _body(schema, "/api/v1/prices", "get", "503") == ENVELOPE
    assert _body(schema, "/api/v1/auth/oauth/google", "get", "503") == ENVELOPE
    assert _body(schema, "/api/v1/alerts", "get", "401") == ENVELOPE


def test_a_paginated_list_view_is_documented_as_a_page(schema):
    body = _body(schema, "/api/v1/watchlist", "get", "200")
    assert body["$ref"].startswith("#/components/schemas/Paginated")


def test_the_schema_view_answers_errors_in_the_envelope(client):
    response = client.post("/api/schema/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["status"] == 405


def test_a_down_health_report_says_when_to_come_back(client, monkeypatch):
    from core import health

    monkeypatch.setattr(health, "check_database", lambda: {"connected": False, "latency_ms": 1})
    response = client.get("/health/db")
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json()["connected"] is False
