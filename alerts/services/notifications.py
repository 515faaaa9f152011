"""Notifications: the in-app row and one outbox row per channel, written in the evaluation's
transaction; delivery by tasks that claim a row, send once and mark it.

Exactly once, as the user sees it: a row is claimed with a conditional UPDATE (``pending`` ->
``sending`` with a lease), so two workers never send it together; a worker killed mid-send
leaves a lapsed lease that the sweep re-claims, and the retry carries the same
``idempotency_key`` (webhook ``Idempotency-Key`` header, push item ``id``, mail Message-ID) so
the receiver drops the repeat.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from alerts.clients import webhook as client
from alerts.models import Alert, AlertEvent, Delivery, Notification, Preference, Webhook
from core.enqueue import task_send
from core.ssrf import UnsafeUrl, check_url
from streaming import services as streaming_services

from .common import invalid

logger = logging.getLogger("cryptocast.alerts")


# --- writing (inside the evaluation's transaction) ------------------------------------------
def _in_quiet_hours(pref: Preference, now: datetime) -> datetime | None:
    """When quiet hours (UTC) end, if ``now`` is inside them."""
    start, end = pref.quiet_start, pref.quiet_end
    if start is None or end is None or start == end:
        return None
    t = now.time()
    inside = start <= t < end if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = now.date() if t < end else now.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=now.tzinfo)


def _payload(alert: Alert, event: AlertEvent, description: str) -> dict[str, Any]:
    return {
        "alert_id": alert.pk,
        "alert_name": alert.name,
        "event_id": event.pk,
        "coin": event.asset_id,
        "condition": description,
        "state": event.to_state,
        "value": event.value,
        "reason": event.reason,
        "source": event.source,
        "as_of": event.as_of.isoformat() if event.as_of else None,
        "fired_at": event.created_at.isoformat(),
    }


def notifications_write(
    *, fired: Sequence[tuple[Alert, AlertEvent, str]], now: datetime
) -> list[int]:
    """In-app rows plus outbox rows for every channel the user wants; bulk, a few queries."""
    user_ids = {a.user_id for a, _, _ in fired}
    prefs = {p.user_id: p for p in Preference.objects.filter(user_id__in=user_ids)}
    hooks: dict[int, list[Webhook]] = {}
    for hook in Webhook.objects.filter(user_id__in=user_ids, is_active=True).order_by("id"):
        hooks.setdefault(hook.user_id, []).append(hook)
    notes = [
        Notification(
            user_id=alert.user_id,
            event=event,
            title=f"{alert.name or 'Alert'}: {event.asset_id} {event.to_state}"[:200],
            body=f"{description} — {event.reason}",
            data=_payload(alert, event, description),
            created_at=now,
        )
        for alert, event, description in fired
    ]
    Notification.objects.bulk_create(notes, batch_size=1000)
    rows: list[Delivery] = []

    def add(note: Notification, due: datetime, channel: str, **extra: Any) -> None:
        rows.append(
            Delivery(
                notification=note,
                channel=channel,
                idempotency_key=uuid.uuid4().hex,
                next_attempt_at=due,
                created_at=now,
                **extra,
            )
        )

    for note in notes:
        pref = prefs.get(note.user_id) or Preference(user_id=note.user_id)
        due = _in_quiet_hours(pref, now) or now
        if pref.push:
            add(note, due, Delivery.Channel.PUSH)
        if pref.email:
            status = Delivery.Status.DIGEST if pref.daily_digest else Delivery.Status.PENDING
            add(note, due, Delivery.Channel.EMAIL, status=status)
        if pref.webhook:
            for hook in hooks.get(note.user_id, []):
                add(note, due, Delivery.Channel.WEBHOOK, webhook=hook)
    Delivery.objects.bulk_create(rows, batch_size=1000)
    ids = [r.pk for r in rows if r.status == Delivery.Status.PENDING and r.next_attempt_at <= now]
    if ids:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids=ids))
    return [n.pk for n in notes]


def deliveries_enqueue(*, delivery_ids: Sequence[int]) -> bool:
    """Hand the rows to the worker; a dead broker loses nothing (the sweep delivers them)."""
    try:
        task_send("alerts.deliver", kwargs={"delivery_ids": list(delivery_ids)}, retry=False)
    except Exception:
        logger.warning(
            "alerts: broker unavailable, %d deliveries left to the sweep", len(delivery_ids)
        )
        return False
    return True


# --- delivering ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DeliveryOutcome:
    delivery_id: int
    status: str
    detail: str = ""


def _claim(delivery_id: int, now: datetime) -> bool:
    lease = now + timedelta(seconds=settings.ALERTS_DELIVERY_LEASE_SECONDS)
    claimable = Q(status=Delivery.Status.PENDING) | Q(
        status=Delivery.Status.SENDING, lease_until__lt=now
    )
    return bool(
        Delivery.objects.filter(claimable, pk=delivery_id, next_attempt_at__lte=now).update(
            status=Delivery.Status.SENDING, lease_until=lease, attempts=F("attempts") + 1
        )
    )


def _finish(row: Delivery, *, status: str, error: str = "", code: int | None = None) -> None:
    row.status = status
    row.last_error = error[:300]
    row.last_status_code = code
    row.lease_until = None
    if status == Delivery.Status.SENT:
        row.sent_at = timezone.now()
    row.save(update_fields=["status", "last_error", "last_status_code", "lease_until", "sent_at"])


def _retry_later(row: Delivery, *, error: str, code: int | None, retry_after: float | None) -> str:
    if row.attempts >= settings.ALERTS_WEBHOOK_MAX_ATTEMPTS:
        _finish(row, status=Delivery.Status.FAILED, error=f"gave up: {error}", code=code)
        return Delivery.Status.FAILED
    base = settings.ALERTS_WEBHOOK_BACKOFF_SECONDS * (2 ** (row.attempts - 1))
    wait = min(base, 3600) * (1 + random.random() * 0.25)
    if retry_after is not None:
        wait = max(wait, min(retry_after, 3600))
    row.status = Delivery.Status.PENDING
    row.next_attempt_at = timezone.now() + timedelta(seconds=wait)
    row.lease_until = None
    row.last_error = error[:300]
    row.last_status_code = code
    row.save(
        update_fields=["status", "next_attempt_at", "lease_until", "last_error", "last_status_code"]
    )
    return Delivery.Status.PENDING


def _push(row: Delivery) -> None:
    note = row.notification
    item = {
        "id": row.idempotency_key,
        "notification_id": note.pk,
        "title": note.title,
        "body": note.body,
        "created_at": note.created_at.isoformat(),
        **note.data,
    }
    streaming_services.publish(channel=f"notifications:{note.user_id}", items=[item], key="id")


def _email(row: Delivery) -> None:
    note = row.notification
    user = note.user
    message = EmailMessage(
        subject=note.title,
        body=f"{note.body}\n\nSource: {note.data.get('source')} as of {note.data.get('as_of')}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"Message-ID": f"<{row.idempotency_key}@cryptocast>"},
    )
    message.send(fail_silently=False)


def _webhook(row: Delivery) -> str:
    hook = row.webhook
    assert hook is not None
    if not hook.is_active:
        _finish(row, status=Delivery.Status.FAILED, error="webhook disabled")
        return Delivery.Status.FAILED
    try:  # re-checked at delivery: the name may resolve elsewhere now
        target = check_url(
            hook.url,
            allow_http=settings.ALERTS_WEBHOOK_ALLOW_HTTP,
            allow_private=settings.ALERTS_WEBHOOK_ALLOW_PRIVATE,
        )
    except UnsafeUrl as exc:
        _finish(row, status=Delivery.Status.FAILED, error=f"refused: {exc}")
        return Delivery.Status.FAILED
    note = row.notification
    body = json.dumps(
        {"id": row.idempotency_key, "type": "alert.fired", "notification_id": note.pk, **note.data},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()
    result = client.post(
        target=target,
        body=body,
        secret=hook.secret,
        timestamp=int(timezone.now().timestamp()),
        idempotency_key=row.idempotency_key,
        timeout=settings.ALERTS_WEBHOOK_TIMEOUT_SECONDS,
    )
    if result.ok:
        Webhook.objects.filter(pk=hook.pk).update(consecutive_failures=0)
        _finish(row, status=Delivery.Status.SENT, code=result.status)
        return Delivery.Status.SENT
    failures = hook.consecutive_failures + 1
    disable = failures >= settings.ALERTS_WEBHOOK_DISABLE_AFTER
    Webhook.objects.filter(pk=hook.pk).update(
        consecutive_failures=F("consecutive_failures") + 1,
        **(
            {"is_active": False, "disabled_reason": f"{failures} failures in a row: {result.error}"}
            if disable
            else {}
        ),
    )
    if result.retryable and not disable:
        return _retry_later(
            row, error=result.error, code=result.status, retry_after=result.retry_after
        )
    _finish(row, status=Delivery.Status.FAILED, error=result.error, code=result.status)
    return Delivery.Status.FAILED


def delivery_send(*, delivery_id: int) -> DeliveryOutcome:
    """Deliver one outbox row if it is due and nobody else holds it (else a no-op)."""
    now = timezone.now()
    if not _claim(delivery_id, now):
        return DeliveryOutcome(delivery_id, "skipped", "not due or already taken")
    row = Delivery.objects.select_related("notification__user", "webhook").get(pk=delivery_id)
    try:
        if row.channel == Delivery.Channel.PUSH:
            _push(row)
        elif row.channel == Delivery.Channel.EMAIL:
            _email(row)
        else:
            status = _webhook(row)
            return DeliveryOutcome(delivery_id, status, row.last_error)
    except OSError as exc:  # SMTP and the like: try again later
        status = _retry_later(
            row, error=f"{exc.__class__.__name__}: {exc}", code=None, retry_after=None
        )
        return DeliveryOutcome(delivery_id, status, row.last_error)
    _finish(row, status=Delivery.Status.SENT)
    return DeliveryOutcome(delivery_id, Delivery.Status.SENT)


def deliveries_due(*, limit: int = 500, now: datetime | None = None) -> list[int]:
    """Rows the sweep should (re)deliver: due pending ones and lapsed leases."""
    now = now or timezone.now()
    qs = Delivery.objects.filter(
        Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        | Q(status=Delivery.Status.SENDING, lease_until__lt=now)
    ).order_by("next_attempt_at", "id")
    return list(qs.values_list("id", flat=True)[:limit])


def digests_send(*, now: datetime | None = None) -> int:
    """One mail per user with the day's alerts waiting for the digest; how many mails."""
    now = now or timezone.now()
    users = (
        Delivery.objects.filter(status=Delivery.Status.DIGEST, channel=Delivery.Channel.EMAIL)
        .values_list("notification__user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user_id in list(users):
        with transaction.atomic():
            rows = list(
                Delivery.objects.select_for_update()
                .filter(
                    status=Delivery.Status.DIGEST,
                    channel=Delivery.Channel.EMAIL,
                    notification__user_id=user_id,
                )
                .select_related("notification__user")
                .order_by("created_at", "id")
            )
            if not rows:
                continue
            user = rows[0].notification.user
            lines = [f"- {r.notification.created_at:%H:%M} UTC {r.notification.body}" for r in rows]
            EmailMessage(
                subject=f"cryptocast: {len(rows)} alert(s) on {now:%Y-%m-%d}",
                body="Your alerts today:\n\n" + "\n".join(lines) + "\n",
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[user.email],
                headers={"Message-ID": f"<digest-{user_id}-{now:%Y%m%d}@cryptocast>"},
            ).send(fail_silently=False)
            Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(
                status=Delivery.Status.SENT, sent_at=now
            )
            sent += 1
    return sent


# --- reading state -------------------------------------------------------------------------
@transaction.atomic
def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


@transaction.atomic
def preference_update(*, user: Any, **fields: Any) -> Preference:
    pref, _ = Preference.objects.get_or_create(user=user)
    for name in ("push", "email", "webhook", "quiet_start", "quiet_end", "daily_digest"):
        if name in fields:
            setattr(pref, name, fields[name])
    if (pref.quiet_start is None) != (pref.quiet_end is None):
        raise invalid("quiet_end", "Give both quiet_start and quiet_end, or neither.")
    pref.save()
    return pref
