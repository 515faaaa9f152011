"""Per-user API keys for scripts: shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions

from accounts.models import ApiKey, User

from .audit import audit_record
from .hashed_secrets import digest, new_secret

KEY_PREFIX = "cc"
# last_used_at is written at most this often per key (one UPDATE, not one per request).
LAST_USED_RESOLUTION = timedelta(seconds=60)


@transaction.atomic
def api_key_create(
    *, user: User, name: str, expires_at: datetime | None = None, request: HttpRequest | None = None
) -> tuple[ApiKey, str]:
    """Returns the key row and the raw key; the raw key is never stored or shown again."""
    if expires_at is not None and expires_at <= timezone.now():
        raise exceptions.ValidationError({"expires_at": ["Must be in the future."]})
    # Expired keys no longer work, so they do not use up the cap (revoked ones neither).
    now = timezone.now()
    active = (
        ApiKey.objects.select_for_update()
        .filter(user=user, revoked_at__isnull=True)
        .exclude(expires_at__lte=now)
    )
    if active.count() >= settings.API_KEY_MAX_PER_USER:
        raise exceptions.ValidationError(
            {"name": [f"At most {settings.API_KEY_MAX_PER_USER} active keys per user."]}
        )
    prefix = secrets.token_hex(4)
    raw = f"{KEY_PREFIX}_{prefix}_{new_secret(32)}"
    key = ApiKey.objects.create(
        user=user, name=name, prefix=prefix, digest=digest(raw), expires_at=expires_at
    )
    audit_record(
        action="api_key.created",
        user=user,
        request=request,
        target_type="api_key",
        target_id=str(key.pk),
        data={"name": name, "prefix": prefix},
    )
    return key, raw


@transaction.atomic
def api_key_revoke(
    *, user: User, key_id: uuid.UUID | str, request: HttpRequest | None = None
) -> None:
    """Another user's key is indistinguishable from a missing one (404)."""
    updated = ApiKey.objects.filter(pk=key_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if not updated:
        raise exceptions.NotFound()
    audit_record(
        action="api_key.revoked",
        user=user,
        request=request,
        target_type="api_key",
        target_id=str(key_id),
    )


def api_key_authenticate(*, raw: str) -> tuple[User, ApiKey] | None:
    """The user behind a valid, unexpired, unrevoked key of an active user, else None."""
    if not raw.startswith(f"{KEY_PREFIX}_") or len(raw) > 200:
        return None
    now = timezone.now()
    key = (
        ApiKey.objects.select_related("user")
        .filter(digest=digest(raw), revoked_at__isnull=True)
        .first()
    )
    if key is None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if not key.user.is_active:
        return None
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key.user, key
