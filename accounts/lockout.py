"""django-axes hooks: one username for every login path, and the locked-out response."""

from __future__ import annotations

import ipaddress
import math
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from core.errors import envelope

from .services.users import lockout_seconds


def axes_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The JWT sign-in and allauth pass ``email``; the Django admin passes ``username``."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and request.method == "POST":
        value = (
            request.POST.get("email") or request.POST.get("username") or request.POST.get("login")
        )
    return str(value).strip().lower() if value else None


def axes_client_ip(request: HttpRequest) -> str | None:
    """Same rule as DRF's throttles: with ``NUM_PROXIES`` trusted proxies in front, the
    client is that many hops from the right of X-Forwarded-For."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            hop = hops[-min(num_proxies, len(hops))]
            try:  # client-controlled text: only a real address (else the proxy's own)
                return str(ipaddress.ip_address(hop))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")


def lockout_retry_after(request: HttpRequest, credentials: Any = None) -> int:
    """Seconds until the lock lifts, replaying axes' rule: per account and per address, the
    failures of attempt rows younger than the cool-off are summed; each row expires a cool-off
    after its latest failure. The lock lifts when every group is back under the limit."""
    cooloff = lockout_seconds()
    limit = int(settings.AXES_FAILURE_LIMIT)
    since = timezone.now() - timedelta(seconds=cooloff)
    username = axes_username(request, credentials if isinstance(credentials, dict) else None)
    ip = getattr(request, "axes_ip_address", None) or axes_client_ip(request)
    groups = [q for q, value in ((Q(username=username), username), (Q(ip_address=ip), ip)) if value]
    unlock_in = 0.0
    for group in groups:
        rows = list(
            AccessAttempt.objects.filter(group, attempt_time__gte=since)
            .order_by("attempt_time")
            .values_list("attempt_time", "failures_since_start")
        )
        total = sum(failures for _, failures in rows)
        for attempt_time, failures in rows:
            if total < limit:
                break
            total -= failures
            unlock_in = max(unlock_in, (attempt_time - since).total_seconds())
    if unlock_in <= 0:
        return max(cooloff, 1)
    return max(1, min(cooloff, math.ceil(unlock_in)))


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


class AccountAxesHandler(AxesDatabaseHandler):
    """axes' database handler, except that a successful login clears only that account's
    failures. Stock axes also deletes every failure from the client's IP, which would let an
    attacker launder a password spray by signing into their own account between attempts."""

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count
