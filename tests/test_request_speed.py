"""The middleware stack: no thread hop and no query on cached reads, lean API requests, the
browser stack where it is needed, cheap request logging (issue 17; numbers in bench/)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test import AsyncClient, AsyncRequestFactory, Client, RequestFactory

from core.middleware import lean_request
from markets import live

PRICES = "/api/v1/prices?ids=bitcoin"
BODY = b'{"hand-made":"prices body primed into L1 by this test"}'


@pytest.fixture
def primed_prices():  # type: ignore[no-untyped-def]
    """An L1 entry for PRICES (hand-made body: the test is about the stack, not the data)."""
    live.reset_price_cache()
    key = live.prices_key(ids=["bitcoin"], vs="usd", limit=10)
    live.price_cache().set(key, BODY, ttl=60, l1_ttl=60)
    yield
    live.reset_price_cache()


@pytest.fixture
def hops(monkeypatch):  # type: ignore[no-untyped-def]
    """Counts every sync->async and async->sync hop made through asgiref."""
    counts = {"sync_to_async": 0, "async_to_sync": 0}
    s2a, a2s = SyncToAsync.__call__, AsyncToSync.__call__

    def counting_s2a(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counts["sync_to_async"] += 1
        return s2a(self, *args, **kwargs)

    def counting_a2s(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        counts["async_to_sync"] += 1
        return a2s(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting_s2a)
    monkeypatch.setattr(AsyncToSync, "__call__", counting_a2s)
    return counts


# No `db` fixture in these two: any database query would fail the test.


@pytest.mark.parametrize("path", [PRICES, "/health/quick"])
async def test_cached_read_under_asgi_makes_no_thread_hop_and_no_query(path, primed_prices, hops):  # type: ignore[no-untyped-def]
    handler = ASGIHandler()  # the whole MIDDLEWARE stack, async
    hops["sync_to_async"] = hops["async_to_sync"] = 0  # (loading the middleware does not count)
    response = await handler.get_response_async(AsyncRequestFactory().get(path))
    assert response.status_code == 200
    if path == PRICES:
        assert response.content == BODY and response["X-Cache"] == "l1"
    assert hops == {"sync_to_async": 0, "async_to_sync": 0}


@pytest.mark.parametrize("path", [PRICES, "/health/quick"])
def test_cached_read_under_wsgi_makes_no_thread_hop_and_no_query(path, primed_prices, hops):  # type: ignore[no-untyped-def]
    handler = WSGIHandler()
    hops["sync_to_async"] = hops["async_to_sync"] = 0
    response = handler.get_response(RequestFactory().get(path))
    assert response.status_code == 200
    assert hops == {"sync_to_async": 0, "async_to_sync": 0}


async def test_async_fast_path_answers_like_the_sync_view(primed_prices):  # type: ignore[no-untyped-def]
    sync = Client().get("/health/quick")
    asynchronous = await AsyncClient().get("/health/quick")
    assert asynchronous.content == sync.content == b'{"status":"ok"}'
    for header in ("Content-Type", "Cache-Control", "Allow", "X-Frame-Options", "X-Request-ID"):
        assert asynchronous.has_header(header) and sync.has_header(header), header
    prices = await AsyncClient().get(PRICES)
    assert prices.content == BODY and prices["Cache-Control"] == "public, max-age=1"


def test_a_cache_miss_still_runs_the_view_under_asgi(db, hops):  # type: ignore[no-untyped-def]
    # Nothing cached and no quotes: the async fast path declines and the sync view answers.
    live.reset_price_cache()
    response = asyncio.run(AsyncClient(raise_request_exception=False).get(PRICES))
    assert response.status_code == 503
    assert response.json()["errors"][0]["code"]
    assert hops["sync_to_async"] >= 1  # the view ran in a thread, as a sync view does


# --- which requests are lean ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "cookies", "lean"),
    [
        ("/health/quick", {}, True),
        ("/metrics", {"sessionid": "x"}, True),
        ("/api/v1/prices", {}, True),
        ("/api/v1/cryptocurrencies/", {"csrftoken": "x"}, True),
        ("/api/v1/cryptocurrencies/", {"sessionid": "x"}, False),  # session auth for the SPA
        ("/api/v1/auth/oauth/google/start", {}, False),  # allauth keeps OAuth state in a session
        ("/api/v1/auth/signin", {}, False),
        ("/", {}, False),
        ("/admin/login/", {}, False),
    ],
)
def test_only_requests_without_ambient_credentials_skip_the_browser_stack(path, cookies, lean):  # type: ignore[no-untyped-def]
    request = RequestFactory().get(path)
    request.COOKIES.update(cookies)
    assert lean_request(request) is lean


def test_lean_api_request_has_no_session_and_an_anonymous_user(db):  # type: ignore[no-untyped-def]
    seen = {}

    def probe(request):  # type: ignore[no-untyped-def]
        from django.http import HttpResponse

        seen["session"] = hasattr(request, "session")
        seen["user"] = request.user
        return HttpResponse("ok")

    from core.middleware import AuthenticationMiddleware, SessionMiddleware

    chain = SessionMiddleware(AuthenticationMiddleware(probe))
    response = chain(RequestFactory().get("/api/v1/prices"))
    assert response.status_code == 200
    assert seen["session"] is False and seen["user"].is_anonymous
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.get("Vary", "")


def test_session_authenticated_api_request_gets_the_full_stack(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)  # a browser session: sessionid cookie, no bearer token
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert client.get("/api/v1/alerts/watchlists").status_code != 401


def test_browser_posts_still_need_a_csrf_token(db):  # type: ignore[no-untyped-def]
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"login": "a@example.com", "password": "x"})
    assert response.status_code == 403


async def test_browser_pages_work_under_asgi(db):  # type: ignore[no-untyped-def]
    response = await AsyncClient().get("/")
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"


def test_security_middleware_replacements_are_checked(settings):  # type: ignore[no-untyped-def]
    from core.checks import security_middleware_check

    assert security_middleware_check(None) == []
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("CsrfViewMiddleware")]
    problems = security_middleware_check(None)
    assert [p.id for p in problems] == ["core.W002"]
    assert "CsrfViewMiddleware" in problems[0].msg


# --- request logging ---------------------------------------------------------------------------


def _request_lines(caplog) -> list[dict]:  # type: ignore[no-untyped-def]
    return [
        r.msg
        for r in caplog.records
        if r.name == "cryptocast.request" and isinstance(r.msg, dict) and r.levelno >= logging.INFO
    ]


def test_request_log_line_is_structured_and_never_has_the_query_string(caplog, primed_prices):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="cryptocast.request")
    Client().get(PRICES + "&token=secret")
    (line,) = _request_lines(caplog)
    assert line["path"] == "/api/v1/prices" and line["status"] == 200
    assert "secret" not in repr(line) and isinstance(line["duration_ms"], float)


def test_health_probes_are_logged_at_debug_only(caplog):  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="cryptocast.request")
    Client().get("/health/quick")
    assert _request_lines(caplog) == []


def test_sampling_drops_successes_but_keeps_errors(caplog, settings, db):  # type: ignore[no-untyped-def]
    settings.CORE_REQUEST_LOG_SAMPLE_RATE = 0.0
    caplog.set_level(logging.INFO, logger="cryptocast.request")
    Client().get("/api/v1/cryptocurrencies/")
    Client().get("/api/v1/no-such-endpoint")
    assert [line["status"] for line in _request_lines(caplog)] == [404]


def test_static_files_are_served_under_wsgi_and_asgi(db):  # type: ignore[no-untyped-def]
    sync = Client().get("/static/css/dashboard.css")
    assert sync.status_code == 200 and sync["Content-Type"].startswith("text/css")
    asynchronous = asyncio.run(AsyncClient().get("/static/css/dashboard.css"))
    assert asynchronous.status_code == 200
