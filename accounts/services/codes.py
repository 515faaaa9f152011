"""Single-use short-lived codes: WebSocket tickets and the Google hand-off code.

Stored as digests in the database (every process sees them; nothing falls back to
per-process memory). Consumed with one conditional UPDATE, so a code works exactly once.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import OneTimeCode, User

from .hashed_secrets import digest, new_secret

WS_TICKET_MAX_SECONDS = 30


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(sha256(verifier)) without padding."""
    hashed = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()


def _issue(
    *, user: User, purpose: str, ttl_seconds: int, challenge: str = ""
) -> tuple[str, datetime]:
    raw = new_secret(32)
    expires_at = timezone.now() + timedelta(seconds=ttl_seconds)
    OneTimeCode.objects.create(
        digest=digest(raw),
        purpose=purpose,
        user=user,
        expires_at=expires_at,
        challenge=challenge,
    )
    return raw, expires_at


def _consume(*, raw: str, purpose: str, challenge: str = "") -> User | None:
    if not raw or len(raw) > 200:
        return None
    now = timezone.now()
    with transaction.atomic():
        won = OneTimeCode.objects.filter(
            digest=digest(raw),
            purpose=purpose,
            challenge=challenge,
            used_at__isnull=True,
            expires_at__gt=now,
        ).update(used_at=now)
        if not won:
            return None
        code = OneTimeCode.objects.select_related("user").get(digest=digest(raw))
    return code.user if code.user.is_active else None


def ws_ticket_ttl() -> int:
    return max(1, min(int(settings.WS_TICKET_TTL_SECONDS), WS_TICKET_MAX_SECONDS))


@transaction.atomic
def ws_ticket_issue(*, user: User) -> tuple[str, datetime]:
    return _issue(user=user, purpose=OneTimeCode.Purpose.WS_TICKET, ttl_seconds=ws_ticket_ttl())


def ws_ticket_consume(ticket: str) -> User | None:
    """For the streaming app: the ticket's user, once, within its lifetime; else None.
    Synchronous (database); call it through ``database_sync_to_async`` from a consumer."""
    return _consume(raw=ticket, purpose=OneTimeCode.Purpose.WS_TICKET)


@transaction.atomic
def oauth_handoff_issue(*, user: User, challenge: str) -> str:
    """The code the browser brings back from Google, bound to the SPA's PKCE challenge."""
    if not challenge:
        raise ValueError("an OAuth hand-off code needs the SPA's code_challenge")
    raw, _ = _issue(
        user=user,
        purpose=OneTimeCode.Purpose.OAUTH_HANDOFF,
        ttl_seconds=settings.OAUTH_HANDOFF_TTL_SECONDS,
        challenge=challenge,
    )
    return raw


def oauth_handoff_consume(*, code: str, code_verifier: str) -> User | None:
    """Once, within its lifetime, and only with the verifier of the challenge it was bound to."""
    if not code_verifier:
        return None
    return _consume(
        raw=code,
        purpose=OneTimeCode.Purpose.OAUTH_HANDOFF,
        challenge=pkce_challenge(code_verifier),
    )


@transaction.atomic
def codes_purge_expired(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = OneTimeCode.objects.filter(expires_at__lte=now).delete()
    return deleted
