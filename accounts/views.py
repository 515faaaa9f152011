"""Plain Django views of ``accounts`` (the API is ``apis``): what django-axes answers a
locked-out client (``AXES_LOCKOUT_CALLABLE``, also used by the allauth sign-in stage)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from core.errors import envelope

from .lockout import lockout_retry_after


def axes_lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    retry_after = str(lockout_retry_after(request, credentials))
    headers = {"Retry-After": retry_after}
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        return envelope(
            status_code=429,
            code="account_locked",
            detail="Too many failed sign-in attempts; try again later.",
            headers=headers,
        )
    response = render(
        request, "accounts/locked.html", {"retry_after": int(retry_after)}, status=429
    )
    response["Retry-After"] = retry_after
    return response
