"""Webhook registration: the URL passes the SSRF checks when saved (and again at delivery)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from alerts.models import Webhook
from core.ssrf import UnsafeUrl, check_url

from .common import invalid


def _checked(url: str) -> str:
    try:
        return check_url(
            url,
            allow_http=settings.ALERTS_WEBHOOK_ALLOW_HTTP,
            allow_private=settings.ALERTS_WEBHOOK_ALLOW_PRIVATE,
        ).url
    except UnsafeUrl as exc:
        raise invalid("url", f"URL refused: {exc}.") from exc


@transaction.atomic
def webhook_create(*, user: Any, url: str) -> Webhook:
    if Webhook.objects.filter(user=user).count() >= settings.ALERTS_MAX_WEBHOOKS_PER_USER:
        raise invalid(
            "non_field_errors",
            f"At most {settings.ALERTS_MAX_WEBHOOKS_PER_USER} webhooks per user.",
        )
    return Webhook.objects.create(user=user, url=_checked(url))


@transaction.atomic
def webhook_update(
    *, webhook: Webhook, url: str | None = None, is_active: bool | None = None
) -> Webhook:
    if url is not None:
        webhook.url = _checked(url)
    if is_active is not None:
        webhook.is_active = is_active
        if is_active:  # re-enabled by its owner: start counting again
            webhook.consecutive_failures = 0
            webhook.disabled_reason = ""
    webhook.save()
    return webhook


@transaction.atomic
def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()
