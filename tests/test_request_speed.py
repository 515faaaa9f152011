"""The middleware stack: no thread hop and no query on cached reads, lean API requests, the
browser stack where it is needed, cheap request logging (issue 17; numbers in bench/)."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.test import AsyncClient, AsyncRequestFactory, Client, RequestFactory
from django.urls import path as url_path

from config.urls import urlpatterns as project_urlpatterns
from core.asgi import InlineSignalsASGIHandler
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


def test_a_cache_miss_still_runs_the_view_under_asgi(transactional_db, hops):  # type: ignore[no-untyped-def]
    # Nothing cached and no quotes: the async fast path declines and the sync view answers
    # (a known asset without a quote is a 503; an unknown id would be a 404).
    from markets.tests.data_helpers import make_asset

    make_asset()
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


# --- the ASGI handler itself: request_started / response.close() without a hop -----------------


def _sync_probe(request):  # type: ignore[no-untyped-def]
    from django.http import HttpResponse

    request.META["probe.thread"] = threading.get_ident()
    return HttpResponse(str(threading.get_ident()))


urlpatterns = [  # used by the tests marked ``pytest.mark.urls(__name__)`` below
    url_path("health/probe-sync", _sync_probe),
    *project_urlpatterns,
]


async def _asgi_get(handler, path_qs: str) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    path_only, _, query = path_qs.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path_only,
        "raw_path": path_only.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    incoming = [{"type": "http.request", "body": b"", "more_body": False}]
    sent: list[dict] = []

    async def receive():  # type: ignore[no-untyped-def]
        if incoming:
            return incoming.pop()
        await asyncio.Event().wait()  # no disconnect: the handler cancels this listener

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    await handler(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.fixture
def close_threads(monkeypatch):  # type: ignore[no-untyped-def]
    """The thread each ``response.close()`` (which sends request_finished) ran in."""
    from django.http import HttpResponse

    seen: list[int] = []
    original = HttpResponse.close

    def spy(self):  # type: ignore[no-untyped-def]
        seen.append(threading.get_ident())
        return original(self)

    monkeypatch.setattr(HttpResponse, "close", spy)
    return seen


@pytest.mark.parametrize("path", [PRICES, "/health/quick"])
async def test_cached_read_through_the_asgi_handler_makes_no_thread_hop(
    path, primed_prices, hops, close_threads
):  # type: ignore[no-untyped-def]
    handler = InlineSignalsASGIHandler()  # what config.asgi serves: signals + close included
    hops["sync_to_async"] = hops["async_to_sync"] = 0
    status, body = await _asgi_get(handler, path)
    assert status == 200
    if path == PRICES:
        assert body == BODY
    assert hops == {"sync_to_async": 0, "async_to_sync": 0}
    assert close_threads == [threading.get_ident()]  # request_finished ran, in the loop


@pytest.mark.urls(__name__)
async def test_a_sync_view_still_gets_request_finished_in_its_own_thread(hops, close_threads):  # type: ignore[no-untyped-def]
    # Database connections are per thread: the one that closes them must be the view's.
    status, body = await _asgi_get(InlineSignalsASGIHandler(), "/health/probe-sync")
    assert status == 200
    view_thread = int(body)
    assert view_thread != threading.get_ident()
    assert close_threads == [view_thread]
    assert hops["sync_to_async"] >= 2  # the view, then close()


async def test_an_unknown_signal_receiver_keeps_djangos_thread_hop(
    primed_prices, hops, close_threads
):  # type: ignore[no-untyped-def]
    from django.core.signals import request_finished

    def unknown(**kwargs):  # type: ignore[no-untyped-def]
        return None  # it might do I/O: the handler cannot know

    request_finished.connect(unknown, dispatch_uid="test-unknown-receiver")
    try:
        hops["sync_to_async"] = 0
        status, _ = await _asgi_get(InlineSignalsASGIHandler(), PRICES)
    finally:
        request_finished.disconnect(dispatch_uid="test-unknown-receiver")
    assert status == 200
    assert hops["sync_to_async"] == 1 and close_threads != [threading.get_ident()]


def test_the_project_serves_the_inline_handler_on_the_django_it_was_copied_from():  # type: ignore[no-untyped-def]
    import django

    from config.asgi import django_asgi_app

    # core.asgi copies Django 5.2's ASGIHandler.handle: re-check the copy on an upgrade.
    assert django.VERSION[:2] == (5, 2)
    assert isinstance(django_asgi_app, InlineSignalsASGIHandler)


def _prime_public_pages(path: str) -> None:
    """Hand-made bodies in L1 for the listing, history and forecast pages of ``path``."""
    from core.fastpath import page_key
    from forecasts import response_cache
    from markets.apis.assets import _listing_cache
    from markets.history_cache import HISTORY
    from mlserving import selectors as ml_selectors

    key = page_key(RequestFactory().get(path))
    _listing_cache().set(key, BODY, ttl=60, l1_ttl=60)
    HISTORY.tiers().put_l1("generation", 0, ttl=60)
    HISTORY.tiers().set(f"page:{key}:g0", BODY, ttl=60, l1_ttl=60)
    forecasts = response_cache._cache()
    forecasts.put_l1("generation", 0, ttl=60)
    sig = ml_selectors.manifest_signature()
    forecasts.set(f"page:{sig}:{key}:g0", BODY, ttl=60, l1_ttl=60)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cryptocurrencies/",
        "/api/v1/cryptocurrencies/bitcoin/history?interval=1d",
        "/api/v1/forecasts?ids=bitcoin&days=7",
    ],
)
async def test_cached_public_pages_under_asgi_make_no_thread_hop_and_no_query(path, hops, settings):  # type: ignore[no-untyped-def]
    settings.MARKETS_LISTING_CACHE_SECONDS = 2
    _prime_public_pages(path)
    handler = ASGIHandler()
    hops["sync_to_async"] = hops["async_to_sync"] = 0
    response = await handler.get_response_async(AsyncRequestFactory().get(path))
    assert response.status_code == 200
    assert response.content == BODY and response["X-Cache"] == "l1"
    assert hops == {"sync_to_async": 0, "async_to_sync": 0}
