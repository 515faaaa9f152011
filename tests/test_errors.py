"""Every 4xx/5xx, from DRF views or not, is the same JSON envelope with a request id."""

import pytest
from rest_framework.settings import api_settings

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls")]


def assert_envelope(response, status, code=None):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status
    assert body["type"] in {"validation_error", "client_error", "server_error"}
    assert body["request_id"] == response["X-Request-ID"]
    assert body["errors"], "an envelope always lists at least one error"
    if code:
        assert body["errors"][0]["code"] == code
    return body


@pytest.mark.smoke
def test_unknown_api_path_is_a_404_envelope(client):
    assert_envelope(client.get("/api/v1/does-not-exist"), 404, "not_found")


def test_unknown_api_path_is_json_even_with_debug_on(client, settings):
    settings.DEBUG = True
    assert_envelope(client.get("/api/v2/anything"), 404, "not_found")


def test_unknown_page_outside_the_api_is_an_html_page(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.smoke
def test_wrong_method_is_a_405_envelope(client):
    assert_envelope(client.post("/health"), 405, "method_not_allowed")


def test_validation_error_names_the_field(client):
    body = assert_envelope(
        client.post("/api/v1/_test/validate", {"count": 99}, content_type="application/json"), 400
    )
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == "count"


def test_malformed_json_is_a_400_envelope(client):
    response = client.post("/api/v1/_test/validate", "{not json", content_type="application/json")
    assert_envelope(response, 400, "parse_error")


def test_unsupported_content_type_is_a_415_envelope(client):
    response = client.post("/api/v1/_test/validate", "count=1", content_type="text/plain")
    assert_envelope(response, 415, "unsupported_media_type")


def test_oversized_body_is_a_413_envelope(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = client.post(
        "/api/v1/_test/validate",
        '{"count": 1, "pad": "' + "x" * 500 + '"}',
        content_type="application/json",
    )
    assert_envelope(response, 413, "payload_too_large")


def test_throttled_request_is_a_429_envelope_with_retry_after(client, monkeypatch):
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "test-tight", "1/min")
    assert client.get("/api/v1/_test/throttled").status_code == 200
    response = client.get("/api/v1/_test/throttled")
    assert_envelope(response, 429, "throttled")
    assert int(response["Retry-After"]) >= 1


def test_unhandled_error_in_api_is_a_500_envelope_without_internals(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/_test/boom")
    body = assert_envelope(response, 500)
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert body["type"] == "server_error"


def test_unhandled_error_outside_drf_on_api_like_path_uses_handler500(rf):
    from core.views import handler500

    request = rf.get("/api/v1/whatever")
    response = handler500(request)
    assert response.status_code == 500
    assert b"server_error" in response.content


def test_unhandled_error_on_a_page_is_an_html_500(client):
    client.raise_request_exception = False
    response = client.get("/_test/plain-boom")
    assert response.status_code == 500
    assert b"secret internal detail" not in response.content


def test_incoming_request_id_is_echoed_back(client):
    response = client.get("/health", HTTP_X_REQUEST_ID="abc123def456")
    assert response["X-Request-ID"] == "abc123def456"


@pytest.mark.parametrize(
    "given", ["x" * 65, "a b", "id\u00e9", "</script>", "line\\nbreak", ""], ids=repr
)
def test_a_request_id_that_could_garble_a_log_line_is_replaced(client, given):
    response = client.get("/health", HTTP_X_REQUEST_ID=given)
    returned = response["X-Request-ID"]
    assert returned != given and len(returned) == 32 and returned.isalnum()
    assert response["Access-Control-Expose-Headers"] == "X-Request-ID"


def test_the_request_id_reaches_the_error_body(client):
    response = client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="trace-7.a_b")
    assert response["X-Request-ID"] == "trace-7.a_b" == response.json()["request_id"]


async def test_the_request_id_under_asgi(async_client):
    response = await async_client.get("/health/quick", headers={"X-Request-ID": "async-1"})
    assert response["X-Request-ID"] == "async-1"


def test_every_response_gets_a_fresh_request_id(client):
    first = client.get("/health")["X-Request-ID"]
    second = client.get("/health")["X-Request-ID"]
    assert first and second and first != second


def test_log_lines_carry_the_request_id():
    from django_guid import clear_guid, set_guid

    from core.logging import _add_request_id

    set_guid("req-42")
    try:
        assert _add_request_id(None, "info", {"event": "x"})["request_id"] == "req-42"
    finally:
        clear_guid()
    assert "request_id" not in _add_request_id(None, "info", {"event": "x"})


def test_throttles_step_aside_when_the_cache_is_down(client, settings, monkeypatch):
    """Redis down must not turn every API call into a 500 (nor count in process memory)."""
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "test-tight", "1/min")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    }
    from django.core.cache import caches
    from rest_framework.throttling import SimpleRateThrottle

    from core.throttling import ScopedRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "cache", caches["default"])
    monkeypatch.setattr("tests.urls.ThrottledView.throttle_classes", [ScopedRateThrottle])
    assert client.get("/api/v1/_test/throttled").status_code == 200
    assert client.get("/api/v1/_test/throttled").status_code == 200


def test_anonymous_requests_pay_the_anon_throttle_only(rf, settings):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request

    from core.throttling import AnonRateThrottle, UserRateThrottle

    request = Request(rf.get("/api/v1/prices", REMOTE_ADDR="10.1.2.3"))
    request.user = AnonymousUser()
    assert UserRateThrottle().get_cache_key(request, None) is None
    assert "10.1.2.3" in AnonRateThrottle().get_cache_key(request, None)


def test_signed_in_users_are_counted_by_the_user_throttle(rf, django_user_model):
    from rest_framework.request import Request

    from core.throttling import UserRateThrottle

    user = django_user_model.objects.create_user(email="t@example.com", password=None)
    request = Request(rf.get("/api/v1/prices"))
    request.user = user
    assert str(user.pk) in UserRateThrottle().get_cache_key(request, None)
