"""The audit log: one append-only row per security-relevant action (``AuditEvent``).

Other apps record their staff actions here too (``accounts.services.audit_record``): cache
clears, job runs, imports, model promotions. Rows carry ids and names, never a secret: any
``data`` key that looks like one is dropped before the row is written.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_guid import get_guid

from accounts.lockout import axes_client_ip
from accounts.models import AuditEvent, User

log = structlog.get_logger("cryptocast.security")

_SECRET_KEY = re.compile(r"pass|secret|token|code|key|otp|challenge|cookie|auth", re.I)
_MAX_VALUE = 200


def _clean(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Scalars only, short, and never under a name that suggests a secret."""
    cleaned: dict[str, Any] = {}
    for name, value in (data or {}).items():
        if _SECRET_KEY.search(str(name)):
            continue
        if isinstance(value, bool | int | float) or value is None:
            cleaned[str(name)] = value
        else:
            cleaned[str(name)] = str(value)[:_MAX_VALUE]
    return cleaned


def _valid_ip(value: str | None) -> str | None:
    """X-Forwarded-For is client-controlled text: only a real address is stored."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _request_facts(request: HttpRequest | None) -> dict[str, Any]:
    facts: dict[str, Any] = {"request_id": (get_guid() or "")[:64]}
    if request is not None:
        facts["ip"] = _valid_ip(axes_client_ip(request))
        facts["user_agent"] = request.META.get("HTTP_USER_AGENT", "")[:256]
    return facts


def audit_record(
    *,
    action: str,
    user: User | None = None,
    actor: User | None = None,
    request: HttpRequest | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    target_type: str = "",
    target_id: str | int = "",
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Write one audit row. ``user`` is the account concerned (it sees the row in
    ``GET auth/me/audit``), ``actor`` who acted when that is someone else (an admin, staff).

    Runs in the caller's transaction, so a rolled-back action leaves no success row; failures
    are recorded by callers outside any transaction that is about to roll back."""
    actor_user = actor if actor is not None and getattr(actor, "pk", None) else None
    event = AuditEvent.objects.create(
        action=action[:64],
        user=user if user is not None and user.pk else None,
        actor=actor_user,
        outcome=outcome,
        target_type=target_type[:64],
        target_id=str(target_id)[:64],
        data=_clean(data),
        **_request_facts(request),
    )
    log.info(
        "audit",
        action=event.action,
        outcome=event.outcome,
        user_id=event.user_id,
        actor_id=event.actor_id,
        target_type=event.target_type,
        target_id=event.target_id,
    )
    return event


def audit_staff_action(
    sender: Any,
    *,
    action: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    target_type: str = "",
    target_id: str = "",
    data: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """Receiver of ``core.signals.staff_action`` (connected in ``AccountsConfig.ready``):
    core cannot import accounts, so its staff operations announce themselves."""
    audit_record(
        action=action,
        actor=actor if isinstance(actor, User) else None,
        request=request,
        target_type=target_type,
        target_id=target_id,
        data=data,
    )


def audit_table_export(
    sender: Any,
    *,
    request: HttpRequest,
    format: str,
    export: str,
    rows: int | None,
    **kwargs: Any,
) -> None:
    """Receiver of ``core.signals.data_exported``: a signed-in user took a table away
    (``?format=csv|xlsx``); the row says which, in what format and how many rows."""
    user = request.user if isinstance(request.user, User) else None
    audit_record(
        action="data.table_export",
        user=user,
        request=request,
        target_type="export",
        target_id=export,
        data={"format": format, "rows": rows, "path": request.path},
    )


@transaction.atomic
def audit_events_purge(*, now: datetime | None = None) -> int:
    """Delete audit rows older than ``AUDIT_RETENTION_DAYS`` (the only deletion there is)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _ = AuditEvent.objects.filter(created_at__lt=cutoff).delete()
    return deleted
