"""``core.http.ProviderHttp.post_json``: a JSON POST with the layer's timeouts, size cap and
breaker, retried only where repeating it cannot repeat an action (the request never left, or
429), unless the caller says the call is idempotent."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from core import http as core_http
from core.http import ProviderConfig, ProviderError, provider_http, register_provider

BASE = "https://post.test"
NAME = "test_post"


@pytest.fixture(autouse=True)
def provider(settings, monkeypatch):  # type: ignore[no-untyped-def]
    settings.PROVIDER_BUDGET_SQLITE_PATH = ""
    register_provider(
        NAME,
        lambda: ProviderConfig(
            name=NAME,
            base_url=BASE,
            timeout=4.0,
            connect_timeout=1.5,
            attempts=3,
            retry_after_cap=2.0,
            breaker_fail_max=3,
            budget=100,
        ),
    )
    core_http.reset_providers()
    waited: list[float] = []
    monkeypatch.setattr("time.sleep", lambda s: waited.append(s))
    yield waited
    core_http.reset_providers()


def post(**kwargs):  # type: ignore[no-untyped-def]
    return provider_http(NAME).post_json("/v1/do", json_body={"n": 1}, **kwargs)


@respx.mock
def test_the_body_goes_as_json_and_the_answer_comes_back_parsed():
    route = respx.post(f"{BASE}/v1/do").mock(return_value=httpx.Response(200, json={"ok": 1}))
    assert post(parse=lambda data: data["ok"], headers={"Authorization": "Bearer k"}) == 1
    request = route.calls.last.request
    assert json.loads(request.content) == {"n": 1}
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Authorization"] == "Bearer k"
    # per-call credentials never stick to the shared client
    assert "Authorization" not in provider_http(NAME).client.headers


def test_timeouts_are_the_configured_ones():
    timeout = provider_http(NAME).client.timeout
    assert (timeout.read, timeout.connect) == (4.0, 1.5)


@respx.mock
@pytest.mark.parametrize(
    ("failure", "idempotent", "calls"),
    [
        (httpx.ReadTimeout("slow"), False, 1),  # the server may have acted: never repeated
        (httpx.ReadTimeout("slow"), True, 3),
        (httpx.RemoteProtocolError("dropped"), False, 1),
        (httpx.RemoteProtocolError("dropped"), True, 3),
        (httpx.ConnectTimeout("no connect"), False, 3),  # never left: safe to repeat
        (httpx.ConnectError("refused"), False, 3),
        (httpx.PoolTimeout("pool"), False, 3),
    ],
)
def test_transport_failures_are_retried_only_where_safe(failure, idempotent, calls):
    route = respx.post(f"{BASE}/v1/do").mock(side_effect=failure)
    with pytest.raises(ProviderError):
        post(idempotent=idempotent)
    assert route.call_count == calls


@respx.mock
@pytest.mark.parametrize(("idempotent", "calls"), [(False, 1), (True, 3)])
def test_server_errors_are_retried_only_for_idempotent_calls(idempotent, calls):
    route = respx.post(f"{BASE}/v1/do").mock(return_value=httpx.Response(502))
    with pytest.raises(ProviderError, match="502 server error"):
        post(idempotent=idempotent)
    assert route.call_count == calls


@respx.mock
def test_a_429_is_retried_after_its_short_retry_after(provider):
    route = respx.post(f"{BASE}/v1/do").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    assert post() == {"ok": True}
    assert route.call_count == 2 and provider == [1.0]


@respx.mock
def test_a_long_retry_after_fails_fast_with_the_wait(provider):
    route = respx.post(f"{BASE}/v1/do").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "90"})
    )
    with pytest.raises(ProviderError) as info:
        post()
    assert info.value.retry_after == 90 and route.call_count == 1 and provider == []


@respx.mock
def test_failures_open_the_breaker_and_then_nothing_is_sent():
    route = respx.post(f"{BASE}/v1/do").mock(return_value=httpx.Response(500))
    for _ in range(3):
        with pytest.raises(ProviderError, match="500"):
            post()
    assert route.call_count == 3
    with pytest.raises(ProviderError, match="circuit open") as info:
        post()
    assert route.call_count == 3 and info.value.retry_after > 0
    assert provider_http(NAME).stats()["circuit_open"] == 1


@respx.mock
def test_client_errors_do_not_trip_the_breaker():
    respx.post(f"{BASE}/v1/do").mock(return_value=httpx.Response(400, json={"error": "bad"}))
    for _ in range(5):
        with pytest.raises(ProviderError, match="400 client error"):
            post()
    assert provider_http(NAME).breaker_state() == "closed"


@respx.mock
def test_bodies_over_the_cap_are_refused_declared_or_streamed():
    respx.post(f"{BASE}/v1/do").mock(
        side_effect=[
            httpx.Response(200, headers={"Content-Length": "5000"}, content=b"{}"),
            httpx.Response(200, content=b'{"x": "' + b"a" * 5000 + b'"}'),
        ]
    )
    for _ in range(2):
        with pytest.raises(ProviderError, match="larger than 1000 bytes"):
            post(max_bytes=1000)


@respx.mock
@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(301, headers={"Location": "https://elsewhere.test/"}), "301 client error"),
        (httpx.Response(200, content=b"<html>oops</html>"), "HTML instead of JSON"),
        (httpx.Response(200, content=b'{"truncated": '), "malformed JSON"),
        (httpx.Response(401), "401 unauthorized"),
    ],
)
def test_redirects_are_not_followed_and_garbage_is_a_failure(response, reason):
    route = respx.post(f"{BASE}/v1/do").mock(return_value=response)
    with pytest.raises(ProviderError, match=reason):
        post()
    assert route.call_count == 1
