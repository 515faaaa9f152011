"""Hostile input never answers 500 (issue 16, findings 3, 4, 6, 7, 8); each failed before its fix.

Run on the embedded default and on PostgreSQL (``DATABASE_URL``): a NUL byte is a 404 on SQLite
but a ``ValueError`` from psycopg on PostgreSQL, so both must refuse it up front.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.utils import timezone

from tests.test_errors import assert_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    # A 500 must show up as a 500 response here, not as a re-raised exception.
    return Client(raise_request_exception=False)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- 3. deeply nested JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/signin", "/api/v1/auth/signup", "/api/v1/auth/password-reset"]
)
def test_deeply_nested_json_is_a_400_envelope_on_anonymous_endpoints(client, path):
    body = '{"email": ' + _nested(100_000) + "}"
    response = client.post(path, body, content_type="application/json")
    assert_envelope(response, 400, "parse_error")


def test_json_nested_past_the_limit_is_refused_below_it_accepted(client, settings):
    settings.CORE_JSON_MAX_DEPTH = 5
    deep = '{"email": [[[[["a"]]]]]}'  # 6 levels
    assert_envelope(
        client.post("/api/v1/auth/signin", deep, content_type="application/json"),
        400,
        "parse_error",
    )
    shallow = '{"email": [["a"]]}'
    response = client.post("/api/v1/auth/signin", shallow, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"  # parsed, then refused by the form


def test_json_with_a_nul_in_a_string_is_a_400_envelope(client):
    body = json.dumps({"email": "a\x00@example.com", "password": "x"})
    response = client.post("/api/v1/auth/signin", body, content_type="application/json")
    assert_envelope(response, 400, "parse_error")


# --- 4. NUL and control characters in path, query and form fields ----------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cryptocurrencies/bit%00coin",
        "/api/v1/cryptocurrencies/bitcoin/history?interval=1d%00",
        "/api/v1/news?search=a%00b",
        "/api/v1/news?q=%01%02",
        "/api/v1/prices/history/bit%00coin",
        "/api/v1/cryptocurrencies/?search=%00",
    ],
)
def test_control_characters_in_path_or_query_are_a_400_envelope(client, url):
    assert_envelope(client.get(url), 400, "invalid_characters")


def test_control_characters_in_form_fields_are_a_400_envelope(client):
    response = client.post(
        "/api/v1/auth/signin",
        urlencode({"email": "a\x00@example.com", "password": "x"}),
        content_type="application/x-www-form-urlencoded",
    )
    assert_envelope(response, 400, "invalid_characters")


def test_tab_and_newline_in_query_values_are_allowed(client):
    response = client.get("/api/v1/news", {"search": "bitcoin\tprice\nnews"})
    assert response.status_code == 200


# --- 6. crafted pagination cursors ------------------------------------------------------------


def _cursor(**fields: str) -> str:
    return base64.b64encode(urlencode(fields).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor(p="not-a-date"),
        _cursor(p="2024-01-01T00:00:00\x00"),
        _cursor(o="-5"),
        _cursor(p="9" * 400, r="1"),
        "!!!not-base64",
    ],
)
def test_crafted_cursor_is_a_400_envelope(client, cursor):
    from markets.tests.data_helpers import make_asset

    make_asset()
    for url in ("/api/v1/cryptocurrencies/bitcoin/history", "/api/v1/news"):
        response = client.get(url, {"cursor": cursor})
        assert_envelope(response, 400, "invalid_cursor")


def test_crafted_cursor_on_the_audit_log_is_a_400_envelope(client, user):
    client.force_login(user)
    response = client.get("/api/v1/auth/me/audit", {"cursor": _cursor(p="yesterday")})
    assert_envelope(response, 400, "invalid_cursor")


# --- 7. Google callback without Google ------------------------------------------------------


def test_google_callback_without_google_configured_is_a_503_envelope(client, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"google": {"APPS": []}}
    response = client.get("/api/v1/auth/oauth/google/callback", {"code": "x", "state": "y"})
    assert_envelope(response, 503, "service_unavailable")


# --- 8. contract gaps ------------------------------------------------------------------------


def test_unknown_coin_ids_on_prices_are_a_404_envelope(client):
    from markets.live import reset_price_cache

    reset_price_cache()
    assert_envelope(client.get("/api/v1/prices", {"ids": "no-such-coin"}), 404, "not_found")


def test_post_to_a_bad_uuid_with_a_session_is_a_json_envelope(user):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(user)
    response = client.post(f"/api/v1/auth/me/export/not-a-uuid-{uuid.uuid4().hex[:4]}")
    assert_envelope(response, response.status_code)
    assert response.status_code in (403, 404)
    response = client.post("/api/v1/no/such/path")
    assert_envelope(response, response.status_code)


def test_malformed_multipart_boundary_is_a_400_envelope_with_request_id(client):
    response = client.generic(
        "POST",
        "/api/v1/auth/signin",
        b"--x\r\nbroken",
        content_type="multipart/form-data; boundary=",
    )
    assert_envelope(response, 400)


def test_expired_api_keys_do_not_count_toward_the_cap(user, settings):
    from accounts.models import ApiKey
    from accounts.services import api_key_create

    settings.API_KEY_MAX_PER_USER = 2
    for i in range(2):
        key, _ = api_key_create(
            user=user, name=f"old{i}", expires_at=timezone.now() + timedelta(seconds=1)
        )
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(days=1))
    key, raw = api_key_create(user=user, name="fresh")
    assert raw and key.name == "fresh"


# --- 8. chunked request bodies (WSGI: Django reads CONTENT_LENGTH bytes, none without it) ----


def _wsgi_post(path: str, body: bytes, *, terminated: bool) -> tuple[str, bytes]:
    import io

    from django.test import RequestFactory

    from config.wsgi import application

    environ = RequestFactory()._base_environ(
        PATH_INFO=path,
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input"] = io.BytesIO(body)
    if terminated:
        environ["wsgi.input_terminated"] = True  # gunicorn: the input is de-chunked
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    status: list[str] = []
    # As Django's test client does: the test's transaction must survive the request.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        chunks = application(environ, lambda s, h, *a: status.append(s))
        return status[0], b"".join(chunks)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_chunked_sign_in_under_gunicorn_reads_the_body(user):
    body = json.dumps({"email": user.email, "password": "correct-horse-battery-9"}).encode()
    status, content = _wsgi_post("/api/v1/auth/signin", body, terminated=True)
    assert status.startswith("200"), content
    assert b"access" in content


def test_a_chunked_body_the_server_cannot_dechunk_is_a_clear_411(user):
    body = json.dumps({"email": user.email, "password": "x"}).encode()
    status, content = _wsgi_post("/api/v1/auth/signin", body, terminated=False)
    assert status.startswith("411"), content
    assert json.loads(content)["errors"][0]["code"] == "length_required"
