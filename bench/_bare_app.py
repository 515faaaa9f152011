"""WSGI and ASGI entry points of the HTTP benchmarks: one server process serves both the
project's full stack and, under ``/bare/``, a Django handler with no middleware at all (same
settings, same URLconf). Under ASGI the full stack runs through the project's handler
(``core.asgi``, as ``config.asgi``); the bare one through Django's stock handler unless
``BENCH_BARE_HANDLER=inline`` (then only the middleware differs)."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench._bare_settings")

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

from core.asgi import InlineSignalsASGIHandler, get_asgi_application  # as config.asgi


class _NoMiddleware:
    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list = []
        self._template_response_middleware: list = []
        self._exception_middleware: list = []
        get_response = self._get_response_async if is_async else self._get_response  # type: ignore[attr-defined]
        self._middleware_chain = convert_exception_to_response(get_response)


class BareWSGIHandler(_NoMiddleware, WSGIHandler):
    pass


class BareASGIHandler(_NoMiddleware, ASGIHandler):
    """Django's stock ASGI handler, no middleware (the baseline of the earlier figures)."""


class BareInlineASGIHandler(_NoMiddleware, InlineSignalsASGIHandler):
    """The project's ASGI handler (no signal hops when none is needed), no middleware."""


_full_wsgi = get_wsgi_application()
_bare_wsgi = BareWSGIHandler()


def wsgi(environ: dict, start_response: Any) -> Any:
    app = _bare_wsgi if environ.get("PATH_INFO", "").startswith("/bare/") else _full_wsgi
    return app(environ, start_response)


_full_asgi = get_asgi_application()
# BENCH_BARE_HANDLER=inline: the baseline gets the project's handler too (only the middleware
# differs); default "django": Django's stock handler, as the earlier figures were measured.
_bare_asgi = (
    BareInlineASGIHandler()
    if os.environ.get("BENCH_BARE_HANDLER", "django") == "inline"
    else BareASGIHandler()
)


async def asgi(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "http" and scope["path"].startswith("/bare/"):
        return await _bare_asgi(scope, receive, send)
    return await _full_asgi(scope, receive, send)
