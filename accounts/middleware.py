"""allauth's own Google pages (``/accounts/google/login/...``) raise ``SocialApp.DoesNotExist``
when Google is not configured: a 503 (as the API's Google routes answer), not a 500."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.models import SocialApp
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

from core.errors import envelope


class SocialAppMissingMiddleware:
    sync_capable = True
    async_capable = True  # __call__ passes the callee's coroutine on (no thread hop)

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, SocialApp.DoesNotExist):
            return None
        return envelope(
            status_code=503,
            code="service_unavailable",
            detail="Google sign-in is not configured.",
            headers={"Retry-After": "3600"},
        )
