"""Request logging with the request id bound (django-guid sets the id and the header)."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

logger = structlog.get_logger("cryptocast.request")

_QUIET_PREFIXES = ("/static/", "/metrics", "/health/live")


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
