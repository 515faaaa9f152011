"""What a view may answer from this process's memory before DRF runs (the hot path of public
cached reads): the request test and the page key, one definition for every app."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse


def anonymous_json_get(request: HttpRequest) -> bool:
    """A GET that DRF would answer as JSON with no credentials to check: the only requests a
    public cached page may answer before DRF (so a bad token still gets its 401, and
    ``Accept``/``?format=`` still pick a spreadsheet)."""
    if request.method != "GET" or "format" in request.GET:
        return False
    if request.META.get("HTTP_AUTHORIZATION"):
        return False
    accept = request.META.get("HTTP_ACCEPT", "")
    return accept in ("", "*/*") or accept.startswith("application/json")


def page_key(request: HttpRequest) -> str:
    """The cache key of a rendered page: host and scheme are in its links (next/previous)."""
    raw = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def json_bytes(body: bytes, *, tier: str) -> HttpResponse:
    """A rendered JSON page, saying which cache tier answered (``X-Cache``)."""
    response = HttpResponse(body, content_type="application/json")
    response["X-Cache"] = tier
    return response
