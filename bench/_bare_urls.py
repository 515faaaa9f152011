"""The project's URLs plus bare views returning fixed bytes (the baselines of the HTTP
benchmarks). ``bench._bare_app`` serves ``/bare/*`` through a Django handler with no
middleware at all; everything else goes through the project's full stack."""

import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as _project

_bodies: dict[str, bytes] = {}


def _body(name: str) -> bytes:
    """The bytes the project answered (the bench writes BENCH_BODY_DIR/<name> first)."""
    if name not in _bodies:
        folder = os.environ.get("BENCH_BODY_DIR", "")
        f = Path(folder) / name if folder else None
        _bodies[name] = f.read_bytes() if f is not None and f.is_file() else b'{"status":"ok"}'
    return _bodies[name]


def _response(name: str) -> HttpResponse:
    body = _body(name)
    return HttpResponse(
        body, content_type="application/json", headers={"Content-Length": len(body)}
    )


def bare_sync(request: HttpRequest, name: str) -> HttpResponse:
    return _response(name)


async def bare_async(request: HttpRequest, name: str) -> HttpResponse:
    return _response(name)


urlpatterns = [
    path("bare/sync/<str:name>", bare_sync),
    path("bare/async/<str:name>", bare_async),
    *_project,
]
