"""The project's middleware stack: every piece runs natively in both modes, no thread hops.

Why this module exists (measured in docs/performance.md): Django adapts a middleware that is not
capable of the server's mode, and ``MiddlewareMixin`` under ASGI runs ``process_request`` and
``process_response`` through ``sync_to_async`` *on every request*: one hop to the single
thread-sensitive thread and back, twice per middleware. ServeStatic is async-only, so under
gunicorn it costs an ``async_to_sync`` (a new event loop in a new thread) on every request.

- ``Inline*``: Django's and django-prometheus' middleware whose hooks do no I/O, run inline in
  both modes (the mixin's ``__acall__`` calls the sync hooks directly).
- Browser-only middleware (session, CSRF, auth, messages) is skipped on *lean*
  requests: health and metrics, and API calls that carry no session cookie (bearer token, API
  key or anonymous; no cookie means no ambient credential, so CSRF has nothing to protect).
  ``/api/v1/auth/`` always gets the full stack (allauth's OAuth state lives in the session).
  allauth's and axes' middleware stay as they are: both natively sync+async, a few
  microseconds, and both check for their own dotted path in MIDDLEWARE.
- Static files only go through ServeStatic under ``STATIC_URL``.
- ``async_fast_path_middleware`` (innermost) lets a sync view answer an async request without a
  thread hop when it can answer from memory: the view class's ``async_fast_path``.
- Compression: gzip above ``HTTP_GZIP_MIN_BYTES``, inline in both modes, never for streams.
- Request logging: one structured line per request (never the query string), at debug for
  probes, sampled for successful requests when ``CORE_REQUEST_LOG_SAMPLE_RATE`` < 1.
"""

from __future__ import annotations

import io
import logging
import random
import re
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import structlog
from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp.middleware import CSPMiddleware as _CSPMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as _AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as _MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as _SessionMiddleware
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.multipartparser import MultiPartParserError
from django.http.response import HttpResponseBase
from django.middleware.clickjacking import XFrameOptionsMiddleware as _XFrameOptionsMiddleware
from django.middleware.common import CommonMiddleware as _CommonMiddleware
from django.middleware.csrf import CsrfViewMiddleware as _CsrfViewMiddleware
from django.middleware.gzip import GZipMiddleware as _GZipMiddleware
from django.middleware.security import SecurityMiddleware as _SecurityMiddleware
from django_prometheus.middleware import PrometheusAfterMiddleware as _PrometheusAfter
from django_prometheus.middleware import PrometheusBeforeMiddleware as _PrometheusBefore
from servestatic.middleware import ServeStaticMiddleware

from .errors import envelope
from .logging import emit
from .parsers import CONTROL_CHARACTERS
from .views import wants_json

logger = structlog.get_logger("cryptocast.request")
_stdlib_logger = logging.getLogger("cryptocast.request")

GetResponse = Callable[[HttpRequest], Any]


# --- which requests need the browser stack ------------------------------------------------


def lean_request(request: HttpRequest) -> bool:
    """True when the request needs no session, messages, CSRF, auth middleware or allauth."""
    cached = getattr(request, "_cc_lean", None)
    if cached is not None:
        return bool(cached)
    path = request.path_info
    if path.startswith(tuple(settings.CORE_LEAN_PATH_PREFIXES)):
        lean = True
    elif path.startswith(tuple(settings.CORE_LEAN_API_PREFIXES)):
        lean = not path.startswith(tuple(settings.CORE_FULL_STACK_PREFIXES)) and (
            settings.SESSION_COOKIE_NAME not in request.COOKIES
        )
    else:
        lean = False
    request._cc_lean = lean  # type: ignore[attr-defined]
    return lean


async def _anonymous() -> AnonymousUser:
    return AnonymousUser()


class InlineAsyncMixin:
    """For ``MiddlewareMixin`` subclasses whose hooks do no I/O: under ASGI, call them inline
    instead of through ``sync_to_async`` (Django's default, one thread hop per hook)."""

    get_response: GetResponse
    async_mode: bool
    browser_only = False  # skip on lean requests

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        # Django adapts sync process_view/process_template_response with sync_to_async under
        # ASGI; bound coroutine methods keep them inline. (process_exception is always sync.)
        self._sync_process_view = getattr(self, "process_view", None)
        self._sync_process_template_response = getattr(self, "process_template_response", None)
        if self._sync_process_view is not None:
            self.process_view = self._aprocess_view if self.async_mode else self._process_view
        if self._sync_process_template_response is not None and self.async_mode:
            self.process_template_response = self._aprocess_template_response

    def _process_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if self.browser_only and lean_request(request):
            return None
        return self._sync_process_view(request, *args, **kwargs)  # type: ignore[misc]

    async def _aprocess_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        return self._process_view(request, *args, **kwargs)

    async def _aprocess_template_response(self, request: HttpRequest, response: Any) -> Any:
        return self._sync_process_template_response(request, response)  # type: ignore[misc]

    def __call__(self, request: HttpRequest) -> Any:
        if self.browser_only and lean_request(request):
            self.lean(request)
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc]  # sync, or __acall__

    def lean(self, request: HttpRequest) -> None:
        """What a skipped middleware leaves on a lean request (nothing by default)."""

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = None
        if hasattr(self, "process_request"):
            response = self.process_request(request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.response_needs_io(request, response):
                return await sync_to_async(self.process_response, thread_sensitive=True)(
                    request, response
                )
            response = self.process_response(request, response)
        return response

    def response_needs_io(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False


class PrometheusBeforeMiddleware(InlineAsyncMixin, _PrometheusBefore):
    """Counters and a clock: no I/O (multiprocess mode writes to mmapped files)."""


class PrometheusAfterMiddleware(InlineAsyncMixin, _PrometheusAfter):
    """Per view and method: responses by status and the latency histogram (errors and
    exceptions as django-prometheus records them). No I/O.

    django-prometheus also counts every request by method, by transport, by view again, by
    status again (without the view), by charset, and observes request and response body
    sizes: ten metric updates per request, ~100 us of the request's CPU in multiprocess mode
    (gunicorn), for series that nobody reads and the two kept ones sum to. The labelled
    children are looked up once per label set."""

    def __init__(self, get_response: GetResponse) -> None:
        super().__init__(get_response)
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, **labels: str) -> Any:
        """The metric's labelled child, looked up in prometheus_client once per label set."""
        key = (id(metric), *labels.values())
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(**labels)
        return child

    def process_request(self, request: HttpRequest) -> None:
        request.prometheus_after_middleware_event = time.perf_counter()  # type: ignore[attr-defined]

    def process_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        return None

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> Any:
        method, view = self._method(request), self._get_view_name(request)
        status = str(response.status_code)
        metrics = self.metrics
        self._child(
            metrics.responses_by_status_view_method, status=status, view=view, method=method
        ).inc()
        started = getattr(request, "prometheus_after_middleware_event", None)
        if started is None:
            metrics.requests_unknown_latency.inc()
        else:
            self._child(metrics.requests_latency_by_view_method, view=view, method=method).observe(
                time.perf_counter() - started
            )
        return response


class SecurityMiddleware(InlineAsyncMixin, _SecurityMiddleware):
    """HTTPS redirect and security headers: no I/O."""


class CommonMiddleware(InlineAsyncMixin, _CommonMiddleware):
    """User-agent check, slash redirects (URL resolution), Content-Length: no I/O."""


class XFrameOptionsMiddleware(InlineAsyncMixin, _XFrameOptionsMiddleware):
    """One header: no I/O."""


class CSPMiddleware(InlineAsyncMixin, _CSPMiddleware):
    """django-csp's Content-Security-Policy header: no I/O. Lean requests (health, metrics,
    bearer-token API calls) answer JSON or text, where the header means nothing."""

    browser_only = True


class SessionMiddleware(InlineAsyncMixin, _SessionMiddleware):
    """The session is loaded lazily by whoever reads it; only saving does I/O, so only a
    modified session costs a thread hop under ASGI."""

    browser_only = True

    def response_needs_io(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class CsrfViewMiddleware(InlineAsyncMixin, _CsrfViewMiddleware):  # type: ignore[misc]
    """The CSRF secret lives in a cookie (not in the session): no I/O."""

    browser_only = True


class AuthenticationMiddleware(InlineAsyncMixin, _AuthenticationMiddleware):
    """``request.user`` is lazy: no I/O here. Lean requests get an anonymous user (DRF's
    authenticators replace it with the bearer's or the API key's user)."""

    browser_only = True

    def lean(self, request: HttpRequest) -> None:
        request.user = AnonymousUser()
        request.auser = _anonymous  # type: ignore[attr-defined]


class MessageMiddleware(InlineAsyncMixin, _MessageMiddleware):
    """Storing messages may read or write the session (database): only then a thread hop."""

    browser_only = True

    def response_needs_io(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and bool(storage.used or storage.added_new)


class _Gate:
    """Wraps a middleware so that only some requests go through it."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse, inner: Callable[..., Any]) -> None:
        self.get_response = get_response
        self.inner = inner
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)
        inner_exception = getattr(inner, "process_exception", None)
        if inner_exception is not None:

            def process_exception(request: HttpRequest, exception: Exception) -> Any:
                return None if self.skip(request) else inner_exception(request, exception)

            self.process_exception = process_exception

    def skip(self, request: HttpRequest) -> bool:
        return lean_request(request)

    def __call__(self, request: HttpRequest) -> Any:
        # Both modes: the callee returns a response (sync) or a coroutine (async).
        return (self.get_response if self.skip(request) else self.inner)(request)


class StaticFilesMiddleware(_Gate):
    """ServeStatic for ``STATIC_URL`` only. It is async-only: under WSGI a static file costs
    an ``async_to_sync``; nothing else does (production serves static from the proxy)."""

    def __init__(self, get_response: GetResponse) -> None:
        if iscoroutinefunction(get_response):
            inner: Callable[..., Any] = ServeStaticMiddleware(get_response)
        else:
            threaded = sync_to_async(get_response, thread_sensitive=True)

            async def aget_response(request: HttpRequest) -> HttpResponseBase:
                return await threaded(request)

            inner = async_to_sync(ServeStaticMiddleware(aget_response))
        super().__init__(get_response, inner)
        self.prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"

    def skip(self, request: HttpRequest) -> bool:
        return not request.path_info.startswith(self.prefix)


# --- async fast path -------------------------------------------------------------------------


def async_fast_path_middleware(get_response: GetResponse) -> GetResponse:
    """Innermost. Under ASGI a sync view costs a thread hop; a view class may define
    ``async_fast_path(request, **kwargs) -> HttpResponse | None`` that answers from memory
    (no I/O) or returns None to run the view as usual. Under WSGI nothing changes."""
    if not iscoroutinefunction(get_response):
        return get_response

    async def middleware(request: HttpRequest) -> HttpResponseBase:
        return await get_response(request)

    async def process_view(
        request: HttpRequest, view_func: Any, view_args: tuple, view_kwargs: dict
    ) -> HttpResponseBase | None:
        cls = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
        fast = getattr(cls, "async_fast_path", None)
        if fast is None:
            return None
        return await fast(request, *view_args, **view_kwargs)

    middleware.process_view = process_view  # type: ignore[attr-defined]
    markcoroutinefunction(middleware)
    return middleware


async_fast_path_middleware.sync_capable = True  # type: ignore[attr-defined]
async_fast_path_middleware.async_capable = True  # type: ignore[attr-defined]


# --- request id ------------------------------------------------------------------------------

# An incoming X-Request-ID is kept only if it could not garble a log line or a header.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_middleware(get_response: GetResponse) -> GetResponse:
    """django-guid's middleware: the request id (the client's or nginx's ``X-Request-ID`` if
    it is 1-64 letters, digits, ``.``, ``_`` or ``-``; else a new one) in django-guid's
    context variable for the log lines, error bodies and tasks enqueued (its Celery
    integration), and on the response as ``X-Request-ID`` (exposed to CORS clients).

    django-guid's own reads its settings through properties on every request (its
    ``IGNORE_URLS`` set is rebuilt and the full path computed twice, the header found via
    ``request.headers``, which copies every header), 9 % of a cached read. This reads them
    once; ``IGNORE_URLS`` is not supported (refused at start-up)."""
    from django_guid.config import settings as guid_settings
    from django_guid.context import guid
    from django_guid.utils import generate_guid

    if guid_settings.ignore_urls:
        raise ImproperlyConfigured("DJANGO_GUID['IGNORE_URLS'] is not supported")
    header = guid_settings.guid_header_name
    meta_key = "HTTP_" + header.upper().replace("-", "_")
    return_header, expose_header = guid_settings.return_header, guid_settings.expose_header
    integrations = tuple(guid_settings.integrations)

    def begin(request: HttpRequest) -> None:
        given = request.META.get(meta_key)
        request_id = given if given and _REQUEST_ID.fullmatch(given) else generate_guid()
        request.correlation_id = request_id  # type: ignore[attr-defined]  # as django-guid
        guid.set(request_id)
        for integration in integrations:
            integration.run(guid=request_id)

    def end(response: HttpResponseBase) -> None:
        if return_header:
            response[header] = guid.get()
            if expose_header:
                response["Access-Control-Expose-Headers"] = header
        for integration in integrations:
            integration.cleanup()

    if iscoroutinefunction(get_response):

        async def amiddleware(request: HttpRequest) -> HttpResponseBase:
            begin(request)
            response = await get_response(request)
            end(response)
            return response

        markcoroutinefunction(amiddleware)
        return amiddleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        begin(request)
        response = get_response(request)
        end(response)
        return response

    return middleware


request_id_middleware.sync_capable = True  # type: ignore[attr-defined]
request_id_middleware.async_capable = True  # type: ignore[attr-defined]


# --- request logging -------------------------------------------------------------------------


def _log(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
    status = response.status_code
    path = request.path  # never the query string: it may carry secrets
    if status < 400:
        if path.startswith(_QUIET_PREFIXES):
            if _debug_enabled():
                logger.debug("request", method=request.method, path=path, status=status)
            return
        elapsed_ms = (time.perf_counter() - started) * 1000
        rate = settings.CORE_REQUEST_LOG_SAMPLE_RATE
        if (
            rate < 1.0
            and elapsed_ms < settings.CORE_REQUEST_LOG_SLOW_MS
            and random.random() >= rate
        ):
            return
    else:
        elapsed_ms = (time.perf_counter() - started) * 1000
    emit(
        _stdlib_logger,
        logging.WARNING if status >= 500 else logging.INFO,
        "request",
        method=request.method,
        path=path,
        status=status,
        duration_ms=round(elapsed_ms, 2),
    )


_QUIET_PREFIXES = ("/static/", "/metrics", "/health")


def _debug_enabled() -> bool:
    return _stdlib_logger.isEnabledFor(logging.DEBUG)


def request_logging_middleware(get_response: GetResponse) -> GetResponse:
    if iscoroutinefunction(get_response):

        async def amiddleware(request: HttpRequest) -> HttpResponse:
            started = time.perf_counter()
            response = await get_response(request)
            _log(request, response, started)
            return response

        markcoroutinefunction(amiddleware)
        return amiddleware

    def middleware(request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = get_response(request)
        _log(request, response, started)
        return response

    return middleware


request_logging_middleware.sync_capable = True  # type: ignore[attr-defined]
request_logging_middleware.async_capable = True  # type: ignore[attr-defined]


_STREAM_PREFIX = "/api/v1/stream/"


class CompressionMiddleware(InlineAsyncMixin, _GZipMiddleware):
    """gzip for JSON, HTML and static responses above ``HTTP_GZIP_MIN_BYTES`` (CPU only: inline).

    Streams are never compressed: SSE (``text/event-stream``) and anything under
    ``/api/v1/stream/`` must reach the client event by event, and a compressor buffers.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not settings.HTTP_GZIP:
            return response
        if request.path.startswith(_STREAM_PREFIX):
            return response
        if response.get("Content-Type", "").startswith("text/event-stream"):
            return response
        if (
            isinstance(response, HttpResponse)
            and len(response.content) < settings.HTTP_GZIP_MIN_BYTES
        ):
            return response
        # Django's GZipMiddleware gzips each chunk of an async stream (ServeStatic's file
        # responses) as its own gzip member; browsers decode only the first (8 KiB of a
        # script). One compressor over the whole stream instead.
        chunks = None
        if (
            isinstance(response, StreamingHttpResponse)
            and response.is_async
            and not response.has_header("Content-Encoding")
        ):
            chunks = response.streaming_content
        response = super().process_response(request, response)
        if chunks is not None and response.get("Content-Encoding") == "gzip":
            response.streaming_content = _gzip_stream(chunks)  # type: ignore[attr-defined]
        return response


async def _gzip_stream(chunks: Any) -> AsyncIterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: one gzip member
    async for chunk in chunks:
        if data := compressor.compress(chunk):
            yield data
    yield compressor.flush()


# --- hostile input: control characters, chunked bodies, malformed forms -----------------------

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CHUNKED_TOO_LARGE = "cryptocast.chunked_body_too_large"


def _refuse(request: HttpRequest, status: int, code: str, detail: str) -> HttpResponse:
    if wants_json(request):
        return envelope(status_code=status, code=code, detail=detail)
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


def _has_control_characters(values: Any) -> bool:
    return any(CONTROL_CHARACTERS.search(v) for v in values)


def _screen(request: HttpRequest) -> HttpResponse | None:
    """None when the request may go on; else the 4xx it gets (before any view or database)."""
    meta = request.META
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and meta.get(CHUNKED_TOO_LARGE):
        return _refuse(request, 413, "payload_too_large", "Request body is too large.")
    if chunked and not meta.get("CONTENT_LENGTH"):
        if isinstance(request, ASGIRequest):
            # The ASGI handler has read the whole body; DRF reads nothing without a length.
            meta["CONTENT_LENGTH"] = str(len(request.body))
        else:
            return _refuse(
                request,
                411,
                "length_required",
                "Send a Content-Length (chunked bodies unsupported).",
            )
    if CONTROL_CHARACTERS.search(request.path):
        return _refuse(request, 400, "invalid_characters", "The path contains control characters.")
    query = request.GET
    if _has_control_characters(query.keys()) or any(
        _has_control_characters(query.getlist(k)) for k in query
    ):
        return _refuse(
            request, 400, "invalid_characters", "The query string contains control characters."
        )
    if request.method in ("POST", "PUT", "PATCH") and request.content_type in _FORM_TYPES:
        try:
            form = request.POST
        except MultiPartParserError as exc:
            return _refuse(request, 400, "parse_error", f"Malformed multipart body: {exc}")
        if _has_control_characters(form.keys()) or any(
            _has_control_characters(form.getlist(k)) for k in form
        ):
            return _refuse(
                request, 400, "invalid_characters", "A form field contains control characters."
            )
    return None


def hostile_input_middleware(get_response: GetResponse) -> GetResponse:
    """NUL and other control characters in the path, the query or form fields are a 400 (the
    JSON parser refuses them in bodies): PostgreSQL cannot store NUL, and no text we keep has
    them. A chunked body reaches the view (see ``wsgi_chunked_body``) or is a clear 411; a
    malformed multipart body is a 400 in the envelope. No I/O beyond the request's own body."""
    if iscoroutinefunction(get_response):

        async def amiddleware(request: HttpRequest) -> HttpResponseBase:
            return _screen(request) or await get_response(request)

        markcoroutinefunction(amiddleware)
        return amiddleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        return _screen(request) or get_response(request)

    return middleware


hostile_input_middleware.sync_capable = True  # type: ignore[attr-defined]
hostile_input_middleware.async_capable = True  # type: ignore[attr-defined]


class wsgi_chunked_body:
    """WSGI: Django reads ``CONTENT_LENGTH`` bytes and nothing else, so a chunked body (no
    length) reaches views empty. A server that de-chunks the input (gunicorn sets
    ``wsgi.input_terminated``) lets us read it, up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (more is a
    413), and hand it on with its length. Other servers: no length, and the middleware says 411.
    """

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH") and environ.get("wsgi.input_terminated"):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2**31
            body = environ["wsgi.input"].read(limit + 1)
            if len(body) > limit:
                environ[CHUNKED_TOO_LARGE] = True
                body = b""
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)
