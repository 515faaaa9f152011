"""A misbehaving provider, served for real on 127.0.0.1 (a threaded ``http.server``): 429 with
Retry-After, 5xx bursts, a slow-loris body and garbage. Every call stays bounded, the breaker
opens, and the quote failover moves on with the reason recorded (issue 16)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.http import ProviderConfig, ProviderError, ProviderHttp

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


class Misbehaving(BaseHTTPRequestHandler):
    hits: dict[str, int] = {}

    def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        key = self.path.split("?")[0]
        n = self.hits[key] = self.hits.get(key, 0) + 1
        if key.startswith("/ratelimited-once"):
            if n == 1:
                self._send(429, b"{}", Retry_After="1")
            else:
                self._send(200, b'{"ok": true}')
        elif key.startswith("/ratelimited-long"):
            self._send(429, b"{}", Retry_After="120")
        elif key.startswith("/down"):
            self._send(503, b'{"error": "overloaded"}')
        elif key.startswith("/garbage"):
            self._send(200, b"<html>\x00\xff not json at all")
        elif key.startswith("/slow-loris"):
            body = b'{"ok": true, "pad": "' + b"x" * 200 + b'"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for i in range(len(body)):  # one byte every 0.2 s: ~45 s in all
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.2)
            except OSError:
                pass  # the client gave up: what we want
        else:
            self._send(404, b"{}")


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str, **overrides) -> ProviderHttp:  # type: ignore[no-untyped-def]
    config = {
        "name": f"fault-{uuid.uuid4().hex[:8]}",  # fresh breaker and budget per test
        "base_url": url,
        "timeout": 1.0,
        "connect_timeout": 0.5,
        "attempts": 3,
        "backoff_initial": 0.05,
        "backoff_max": 0.1,
        "backoff_jitter": 0.0,
        "retry_after_cap": 2.0,
        "total_timeout": 5.0,
        "budget": 1000,
        "breaker_fail_max": 3,
        "breaker_reset_timeout": 30.0,
        **overrides,
    }
    return ProviderHttp(ProviderConfig(**config))


def _timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    try:
        return fn(), None, time.perf_counter() - started
    except ProviderError as exc:
        return None, exc, time.perf_counter() - started


def test_a_short_retry_after_is_honoured_then_the_call_succeeds(provider_url: str) -> None:
    http = _client(provider_url)
    result, error, took = _timed(lambda: http.get_json("/ratelimited-once"))
    assert error is None and result == {"ok": True}
    assert 0.9 <= took < 3.0  # slept the 1 s it was told, no more


def test_a_long_retry_after_fails_over_at_once(provider_url: str) -> None:
    http = _client(provider_url)
    _, error, took = _timed(lambda: http.get_json("/ratelimited-long"))
    assert error is not None and error.status == 429 and error.retry_after == 120
    assert took < 1.0  # never sleeps 120 s inside a request


def test_a_5xx_burst_opens_the_breaker_and_later_calls_cost_nothing(provider_url: str) -> None:
    http = _client(provider_url, attempts=1)
    path = f"/down-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        _, error, took = _timed(lambda: http.get_json(path))
        assert error is not None and error.status == 503 and took < 2.0
    assert http.breaker_state() == "open"
    hits = Misbehaving.hits[path]
    _, error, took = _timed(lambda: http.get_json(path))
    assert error is not None and "circuit open" in error.reason
    assert took < 0.5 and Misbehaving.hits[path] == hits  # the provider was not called


def test_garbage_is_a_provider_failure_never_a_result(provider_url: str) -> None:
    http = _client(provider_url, attempts=1)
    _, error, took = _timed(lambda: http.get_json("/garbage"))
    assert error is not None and "invalid payload" in error.reason and took < 2.0


def test_a_slow_loris_body_is_cut_at_the_timeout(provider_url: str) -> None:
    """Each byte arrives well within the read timeout; the whole body never does. The call
    must end near ``timeout`` x attempts, not after the ~45 s the server would take."""
    http = _client(provider_url, attempts=2)
    _, error, took = _timed(lambda: http.get_json(f"/slow-loris-{uuid.uuid4().hex[:6]}"))
    assert error is not None and error.reason == "timeout"
    assert took < 4.0


def test_quote_failover_moves_past_a_broken_provider(
    provider_url: str, settings, sample_data
) -> None:  # type: ignore[no-untyped-def]
    from core.http import reset_providers
    from markets.providers import fetch_quotes

    settings.CRYPTOCAST_SAMPLE_DATA = str(sample_data)
    settings.COINGECKO_API_URL = f"{provider_url}/down-cg"
    settings.PROVIDER_RETRY_ATTEMPTS = 1
    settings.MARKET_QUOTE_PROVIDERS = ["coingecko", "replay"]
    reset_providers()
    try:
        started = time.perf_counter()
        batch = fetch_quotes(top=3)
        took = time.perf_counter() - started
    finally:
        reset_providers()
    assert batch.source == "replay"
    assert "coingecko" in batch.fallback_reason and "503" in batch.fallback_reason
    assert took < 5.0
