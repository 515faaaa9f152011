"""The user's own data (``POST auth/me/export``): a ZIP of JSON files, built by a task.

``accounts`` sits low in the layers, so it cannot read watchlists, alerts or notifications
itself: the apps that own them register a section with ``export_section_register(name, fn)``
from their ``AppConfig.ready()``; ``fn(user_id)`` returns JSON-able data (no secrets). The
ZIP holds ``profile.json``, ``api_keys.json`` (metadata, never the key), ``audit_events.json``,
``two_factor.json`` (on/off, codes left; never the secret) and one ``<name>.json`` per
registered section, plus ``manifest.json`` saying what is in it and when it was made.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions

from accounts.models import ApiKey, AuditEvent, DataExport, RecoveryCode, TotpDevice, User
from core.enqueue import task_send_on_commit

from .audit import audit_record
from .roles import user_role

log = structlog.get_logger("cryptocast.accounts")

ExportSection = Callable[[int], Any]
_SECTIONS: dict[str, ExportSection] = {}


def export_section_register(name: str, fn: ExportSection) -> None:
    """Add ``<name>.json`` to every export (idempotent per name; call from ``ready()``)."""
    if not name.replace("_", "").isalnum() or name in _BUILTIN:
        raise ValueError(f"bad export section name {name!r}")
    _SECTIONS[name] = fn


def export_dir() -> Path:
    path = Path(settings.ACCOUNTS_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(export: DataExport) -> Path:
    return export_dir() / f"{export.id}.zip"


# --- the sections accounts owns ---------------------------------------------------------------
def _profile(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "email_verified": user.email_verified,
        "role": user_role(user),
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "has_password": user.has_usable_password(),
        "google_accounts": list(
            SocialAccount.objects.filter(user=user).values("provider", "uid", "date_joined")
        ),
    }


def _api_keys(user: User) -> list[Any]:
    return list(
        ApiKey.objects.filter(user=user).values(
            "id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"
        )
    )


def _audit(user: User) -> list[Any]:
    return list(
        AuditEvent.objects.filter(user=user)
        .order_by("created_at", "id")
        .values("created_at", "action", "outcome", "target_type", "target_id", "ip", "data")
    )


def _two_factor(user: User) -> dict[str, Any]:
    device = TotpDevice.objects.filter(user=user).first()
    return {
        "totp_enabled": bool(device and device.confirmed_at),
        "totp_confirmed_at": device.confirmed_at if device else None,
        "recovery_codes_left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
    }


_BUILTIN: dict[str, Callable[[User], Any]] = {
    "profile": _profile,
    "api_keys": _api_keys,
    "audit_events": _audit,
    "two_factor": _two_factor,
}


# --- services ---------------------------------------------------------------------------------
@transaction.atomic
def data_export_request(*, user: User, request: HttpRequest | None = None) -> DataExport:
    """One export per ``ACCOUNTS_EXPORT_MIN_INTERVAL_MINUTES`` (429 with Retry-After); the
    ZIP is built by a task enqueued on commit."""
    now = timezone.now()
    interval = timedelta(minutes=settings.ACCOUNTS_EXPORT_MIN_INTERVAL_MINUTES)
    User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time
    recent = (
        DataExport.objects.filter(user=user, created_at__gt=now - interval)
        .exclude(status=DataExport.Status.FAILED)
        .order_by("-created_at")
        .first()
    )
    if recent is not None:
        wait = (recent.created_at + interval - now).total_seconds()
        raise exceptions.Throttled(
            wait=max(1, int(wait)), detail="An export was made recently; try again later."
        )
    export = DataExport.objects.create(
        user=user,
        created_at=now,
        expires_at=now + timedelta(hours=settings.ACCOUNTS_EXPORT_TTL_HOURS),
    )
    audit_record(
        action="data_export.requested",
        user=user,
        request=request,
        target_type="data_export",
        target_id=str(export.id),
    )
    task_send_on_commit("accounts.build_data_export", kwargs={"export_id": str(export.id)})
    return export


def data_export_build(*, export_id: str) -> DataExport | None:
    """Write the ZIP (to a temporary name, renamed when complete) and mark the row ready.
    Idempotent: a ready, failed or vanished export is left alone."""
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None or export.status != DataExport.Status.PENDING:
        return export
    user = export.user
    target = export_path(export)
    partial = target.with_suffix(".part")
    contents: dict[str, str] = {}
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            produced: list[tuple[str, Any]] = [(n, fn(user)) for n, fn in _BUILTIN.items()]
            produced += [(n, fn(user.pk)) for n, fn in _SECTIONS.items()]
            for name, value in produced:
                archive.writestr(f"{name}.json", json.dumps(value, cls=DjangoJSONEncoder, indent=2))
                contents[name] = f"{name}.json"
            manifest = {
                "user_id": user.pk,
                "generated_at": timezone.now(),
                "source": "cryptocast",
                "files": sorted(contents.values()),
            }
            archive.writestr("manifest.json", json.dumps(manifest, cls=DjangoJSONEncoder))
        os.replace(partial, target)
    except Exception as exc:
        partial.unlink(missing_ok=True)
        log.exception("data_export_failed", export_id=str(export.id))
        DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.FAILED,
            finished_at=timezone.now(),
            error=type(exc).__name__[:200],
        )
        return DataExport.objects.get(pk=export.pk)
    with transaction.atomic():
        DataExport.objects.filter(pk=export.pk, status=DataExport.Status.PENDING).update(
            status=DataExport.Status.READY,
            finished_at=timezone.now(),
            file_name=f"cryptocast-export-{timezone.now():%Y%m%d}.zip",
            size_bytes=target.stat().st_size,
        )
        audit_record(
            action="data_export.ready",
            user=user,
            target_type="data_export",
            target_id=str(export.id),
        )
    return DataExport.objects.get(pk=export.pk)


def data_export_file(
    *, user: User, export_id: str, request: HttpRequest | None = None
) -> tuple[Path, DataExport]:
    """The ZIP of one of the user's own ready, unexpired exports (another user's is a 404)."""
    export = DataExport.objects.filter(
        pk=export_id, user=user, status=DataExport.Status.READY, expires_at__gt=timezone.now()
    ).first()
    path = export_path(export) if export is not None else None
    if export is None or path is None or not path.exists():
        raise exceptions.NotFound()
    audit_record(
        action="data_export.downloaded",
        user=user,
        request=request,
        target_type="data_export",
        target_id=str(export.id),
    )
    return path, export


@transaction.atomic
def data_exports_purge_expired(*, now: datetime | None = None) -> int:
    """Delete expired exports: the file first, then the row."""
    now = now or timezone.now()
    expired = list(DataExport.objects.filter(expires_at__lte=now))
    for export in expired:
        export_path(export).unlink(missing_ok=True)
        export_path(export).with_suffix(".part").unlink(missing_ok=True)
    DataExport.objects.filter(pk__in=[e.pk for e in expired]).delete()
    return len(expired)
