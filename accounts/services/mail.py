"""Sending the outbox's mails (rows written by ``services.outbox``): claim a row, build its
message at send time, send, retry later with backoff, and the sweep that picks up what a lost
publish or a dead worker left behind.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import OutboundMail

from .email import email_verification_message
from .users import password_reset_message

Kind = OutboundMail.Kind
Status = OutboundMail.Status


def _claim(mail_id: int, now: datetime) -> bool:
    lease = now + timedelta(seconds=settings.ACCOUNTS_MAIL_LEASE_SECONDS)
    claimable = Q(status=Status.PENDING) | Q(status=Status.SENDING, lease_until__lt=now)
    return bool(
        OutboundMail.objects.filter(claimable, pk=mail_id, next_attempt_at__lte=now).update(
            status=Status.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
    )


def _finish(row: OutboundMail, *, status: str, error: str = "") -> None:
    row.status = status
    row.last_error = error[:300]
    row.lease_until = None
    if status == Status.SENT:
        row.sent_at = timezone.now()
    row.save(update_fields=["status", "last_error", "lease_until", "sent_at"])


def _retry_later(row: OutboundMail, *, error: str) -> str:
    if row.attempts >= settings.ACCOUNTS_MAIL_MAX_ATTEMPTS:
        _finish(row, status=Status.FAILED, error=f"gave up: {error}")
        return Status.FAILED
    wait = min(30 * (2 ** (row.attempts - 1)), 3600) * (1 + random.random() * 0.25)
    row.status = Status.PENDING
    row.next_attempt_at = timezone.now() + timedelta(seconds=wait)
    row.lease_until = None
    row.last_error = error[:300]
    row.save(update_fields=["status", "next_attempt_at", "lease_until", "last_error"])
    return Status.PENDING


def _build(row: OutboundMail) -> tuple[str, str, str] | None:
    """(subject, body, recipient) of the row, or None when there is nothing to send."""
    if row.kind == Kind.PASSWORD_RESET:
        return password_reset_message(email=row.to_email)
    if row.kind == Kind.EMAIL_VERIFICATION and row.user_id is not None:
        return email_verification_message(user_id=row.user_id)
    return None


def mail_deliver(*, mail_id: int) -> str:
    """Send one outbox row if it is due and nobody else holds it; its status afterwards
    (``skipped`` also when another worker has it or it is not due)."""
    now = timezone.now()
    if not _claim(mail_id, now):
        return "not_claimed"
    row = OutboundMail.objects.get(pk=mail_id)
    built = _build(row)
    if built is None:
        _finish(row, status=Status.SKIPPED)
        return Status.SKIPPED
    subject, body, recipient = built
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient],
        headers={"Message-ID": f"<{row.idempotency_key}@cryptocast>"},
    )
    try:
        message.send(fail_silently=False)
    except OSError as exc:  # SMTP and the like: try again later
        return _retry_later(row, error=f"{exc.__class__.__name__}: {exc}")
    _finish(row, status=Status.SENT)
    return Status.SENT


def mails_due(*, limit: int = 500, now: datetime | None = None) -> list[int]:
    """Rows the sweep should (re)deliver: due pending ones and lapsed leases."""
    now = now or timezone.now()
    qs = OutboundMail.objects.filter(
        Q(status=Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Status.SENDING, lease_until__lt=now)
    ).order_by("next_attempt_at", "id")
    return list(qs.values_list("id", flat=True)[:limit])


def mails_sweep(*, limit: int = 500) -> dict[str, int]:
    """Deliver every due row (the beat safety net); counts by resulting status."""
    counts: dict[str, int] = {}
    for mail_id in mails_due(limit=limit):
        status = mail_deliver(mail_id=mail_id)
        counts[status] = counts.get(status, 0) + 1
    return counts


def mails_purge_done(*, now: datetime | None = None) -> int:
    """Finished rows (they hold typed addresses) older than ACCOUNTS_MAIL_RETENTION_DAYS."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCOUNTS_MAIL_RETENTION_DAYS)
    done = (Status.SENT, Status.SKIPPED, Status.FAILED)
    count, _ = OutboundMail.objects.filter(status__in=done, created_at__lt=cutoff).delete()
    return count
