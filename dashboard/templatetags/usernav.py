"""The signed-in part of the navigation: links and the unread-notifications badge."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import DatabaseError

from alerts import selectors as alert_selectors

register = template.Library()


@register.inclusion_tag("dashboard/_nav_user.html", takes_context=True)
def user_nav(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    signed_in = bool(user and user.is_authenticated)
    unread = 0
    if signed_in:
        try:
            unread = alert_selectors.notification_unread_count(user=user)
        except DatabaseError:  # an error page must still render when the database is down
            unread = 0
    return {
        "request": request,
        "signed_in": signed_in,
        "unread": unread,
        "csrf_token": context.get("csrf_token"),
    }
