"""Reads of ``accounts`` (other apps may import these)."""

from __future__ import annotations

from allauth.socialaccount.models import SocialAccount
from django.db.models import QuerySet

from .models import ApiKey, AuditEvent, DataExport, User


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's keys that still work or were revoked (never another user's)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at")


def audit_event_list(*, user: User) -> QuerySet[AuditEvent]:
    """The audit rows about the user's own account, newest first."""
    return AuditEvent.objects.filter(user=user).order_by("-created_at", "-id")


def data_export_get(*, user: User, export_id: str) -> DataExport | None:
    """One of the user's own exports (another user's is None: a 404)."""
    return DataExport.objects.filter(pk=export_id, user=user).first()


def user_for_admin(*, user_id: int) -> User | None:
    """Any account by id (active or not), for the role endpoints."""
    return User.objects.prefetch_related("groups").filter(pk=user_id).first()


def google_account_get(*, user: User) -> dict[str, str] | None:
    """The user's linked Google account (e-mail and name Google gave), or None."""
    account = SocialAccount.objects.filter(user=user, provider="google").first()
    if account is None:
        return None
    extra = account.extra_data or {}
    return {
        "email": str(extra.get("email") or ""),
        "name": str(extra.get("name") or ""),
        "linked_at": account.date_joined.isoformat() if account.date_joined else "",
    }
