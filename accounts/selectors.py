"""Reads of ``accounts`` (other apps may import these)."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiKey, User


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id, is_active=True).first()


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys that still work or were revoked (never another user's)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at")
