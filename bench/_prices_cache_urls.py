"""The project's URLs plus one bare Django view returning fixed bytes (the body that
/api/v1/prices returned), behind the same middleware: the baseline of bench/prices_cache.py."""

import os
from pathlib import Path

from django.http import HttpResponse
from django.urls import path

from config.urls import urlpatterns as _project

_body: list[bytes] = []


def bare(request):  # type: ignore[no-untyped-def]
    """The same bytes as the cached prices answer, read once (the bench writes them first)."""
    if not _body:
        body_file = os.environ.get("BENCH_BODY_FILE", "")
        _body.append(Path(body_file).read_bytes() if body_file else b"{}")
    return HttpResponse(_body[0], content_type="application/json")


urlpatterns = [path("bench/bare", bare), *_project]
