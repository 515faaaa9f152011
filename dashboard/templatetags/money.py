"""Number formats of the dashboard (the same rules as the JavaScript islands)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def price(value: float | None) -> str:
    if value is None or value == "":  # "" is a missing variable (e.g. no quote yet)
        return "—"
    return f"{value:,.2f}" if value >= 1 else f"{value:.4g}"


@register.filter
def pct(value: float | None) -> str:
    if value is None or value == "":
        return "—"
    return f"{value:+.2f}%"


@register.filter
def compact(value: float | None) -> str:
    if not value:
        return "—"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.2f}{unit}"
    return f"{value:.2f}"


@register.filter
def updown(value: float | None) -> str:
    if value is None or value == "":
        return ""
    return "up" if value > 0 else "down" if value < 0 else ""


@register.filter
def ago(value: str | datetime | None) -> str:
    if not value:
        return "—"
    when = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    seconds = int((timezone.now() - when).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    if seconds < 172_800:
        return f"{seconds // 3600} h ago"
    return when.date().isoformat()
