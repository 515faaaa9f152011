"""The account lockout (django-axes): one username for every login path, the client address,
the cool-off and when the lock lifts, and the per-account cap (``AccountAxesHandler``).
Services raise ``AccountLocked`` (the API's 429); a locked browser gets ``views``' page."""

from __future__ import annotations

import hashlib
import ipaddress
import math
from datetime import timedelta
from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.conf import settings as axes_settings
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_credentials
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.db.models import Q, Sum
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions, status


class AccountLocked(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed sign-in attempts; try again later."
    default_code = "account_locked"

    def __init__(self, *, retry_after: int) -> None:
        super().__init__()
        self.wait = retry_after


def lockout_seconds() -> int:
    cooloff = settings.AXES_COOLOFF_TIME
    if isinstance(cooloff, timedelta):
        return int(cooloff.total_seconds())
    return int(float(cooloff or 0) * 3600)


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


def _unlock_in(rows: list[tuple[Any, int]], *, limit: int, since: Any) -> float:
    """Seconds from ``since`` until the failures in ``rows`` (oldest first) drop under
    ``limit``: each row expires a cool-off after its latest failure."""
    total = sum(failures for _, failures in rows)
    unlock_in = 0.0
    for attempt_time, failures in rows:
        if total < limit:
            break
        total -= failures
        unlock_in = max(unlock_in, (attempt_time - since).total_seconds())
    return unlock_in


def lockout_retry_after(request: HttpRequest, credentials: Any = None) -> int:
    """Seconds until the lock lifts, replaying the rule of ``AccountAxesHandler``: the
    (account, address) pair's failures against AXES_FAILURE_LIMIT and the account's failures
    over every address against AXES_ACCOUNT_FAILURE_LIMIT, within the cool-off."""
    cooloff = lockout_seconds()
    since = timezone.now() - timedelta(seconds=cooloff)
    username = axes_username(request, credentials if isinstance(credentials, dict) else None)
    ip = getattr(request, "axes_ip_address", None) or axes_client_ip(request)
    if not username:
        return max(cooloff, 1)
    groups = [
        (Q(username=username, ip_address=ip), int(settings.AXES_FAILURE_LIMIT)),
        (Q(username=username), int(settings.AXES_ACCOUNT_FAILURE_LIMIT)),
    ]
    unlock_in = 0.0
    for group, limit in groups:
        rows = list(
            AccessAttempt.objects.filter(group, attempt_time__gte=since)
            .order_by("attempt_time")
            .values_list("attempt_time", "failures_since_start")
        )
        unlock_in = max(unlock_in, _unlock_in(rows, limit=limit, since=since))
    if unlock_in <= 0:
        return max(cooloff, 1)
    return max(1, min(cooloff, math.ceil(unlock_in)))


class AccountAxesHandler(AxesDatabaseHandler):
    """axes' database handler with the lockout design of SECURITY.md:

    - the lock is per (account, address) pair (AXES_LOCKOUT_PARAMETERS): a stranger's
      failures never lock the owner out from another address;
    - a soft per-account cap: AXES_ACCOUNT_FAILURE_LIMIT failures summed over every address
      within the cool-off lock the account everywhere (distributed guessing needs that many
      addresses x AXES_FAILURE_LIMIT guesses per cool-off; the owner's way back in is the
      cool-off or a password reset, which clears the account's failures);
    - a successful login clears only its own pair's failures. Stock axes also deletes every
      failure from the client's IP, which would let an attacker launder a password spray by
      signing into their own account between attempts.
    """

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        pair = super().get_failures(request, credentials)
        limit = int(settings.AXES_FAILURE_LIMIT)
        username = get_client_username(request, credentials)
        if pair >= limit or not username:
            return pair
        account = (
            AccessAttempt.objects.filter(
                username=username, attempt_time__gte=get_cool_off_threshold(request)
            ).aggregate(total=Sum("failures_since_start"))["total"]
            or 0
        )
        return limit if account >= int(settings.AXES_ACCOUNT_FAILURE_LIMIT) else pair

    def user_logged_in(self, sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        """Stock axes' success path (expired attempts cleaned, an access-log row, this pair's
        failures reset), except that a sign-in with no session is logged with no session
        hash. Stock axes creates a session to hash its key, so every token sign-in on
        ``/api/v1/auth/signin`` left an empty ``django_session`` row and answered with a
        ``sessionid`` cookie the API client never asked for (three queries and a cookie per
        sign-in). A session sign-in (``django.contrib.auth.login``) has its key by now."""
        credentials = get_credentials(user.get_username())
        self.clean_expired_user_attempts(request, credentials)
        if not axes_settings.AXES_DISABLE_ACCESS_LOG:
            session = getattr(request, "session", None)
            key = session.session_key if session is not None else None
            AccessLog.objects.create(
                username=user.get_username(),
                ip_address=request.axes_ip_address,  # type: ignore[attr-defined]
                user_agent=request.axes_user_agent,  # type: ignore[attr-defined]
                http_accept=request.axes_http_accept,  # type: ignore[attr-defined]
                path_info=request.axes_path_info,  # type: ignore[attr-defined]
                attempt_time=request.axes_attempt_time,  # type: ignore[attr-defined]
                session_hash=hashlib.sha256(key.encode()).hexdigest() if key else "",
            )
        if axes_settings.AXES_RESET_ON_SUCCESS:
            self.reset_user_attempts(request, credentials)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """A success clears its own (account, address) pair only: neither another address's
        failures at this account nor this address's failures at other accounts."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        ip = getattr(request, "axes_ip_address", None) or axes_client_ip(request)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=ip).delete()
        return count
