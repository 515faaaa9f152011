"""Request logging with the request id bound (django-guid sets the id and the header), and
response compression."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware

logger = structlog.get_logger("cryptocast.request")

_QUIET_PREFIXES = ("/static/", "/metrics", "/health/live")
_STREAM_PREFIX = "/api/v1/stream/"


def _log(request: HttpRequest, response: HttpResponse, started: float) -> None:
    if request.path.startswith(_QUIET_PREFIXES):
        return
    log = logger.warning if response.status_code >= 500 else logger.info
    log(
        "request",
        method=request.method,
        path=request.path,  # never the query string: it may carry secrets
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
    )


def request_logging_middleware(get_response: Callable) -> Callable:
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


class CompressionMiddleware(GZipMiddleware):
    """gzip for JSON, HTML and static responses above ``HTTP_GZIP_MIN_BYTES``.

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
        return super().process_response(request, response)
