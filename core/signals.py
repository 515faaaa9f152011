"""Hooks core offers to the apps above it (core imports no app).

``staff_action`` is sent after a staff operation in core succeeded (cache clear, key
invalidation, cache re-warm, default schedule set-up); ``data_exported`` when a signed-in user
takes a table away as CSV or Excel (``core.tabular``). ``accounts`` connects the audit log to it
in its ``AppConfig.ready`` so every such action leaves an ``AuditEvent`` row; without a receiver
(core on its own) nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.dispatch import Signal
from django.http import HttpRequest

#: kwargs: ``action``, ``actor`` (the user), ``request`` (Django's), ``target_type``,
#: ``target_id``, ``data`` (ids and names only: no secrets)
staff_action = Signal()

#: a signed-in user downloaded a table as a spreadsheet (``?format=csv|xlsx``); kwargs:
#: ``request``, ``format``, ``export`` (the view's export name), ``rows``
data_exported = Signal()


def staff_action_send(
    *,
    action: str,
    request: HttpRequest,
    target_type: str = "",
    target_id: str = "",
    data: Mapping[str, Any] | None = None,
) -> None:
    """Announce a finished staff action. ``send`` (not ``send_robust``): an audit row that
    cannot be written is an error the operator sees, never silently dropped."""
    staff_action.send(
        sender="core",
        action=action,
        actor=getattr(request, "user", None),
        request=request,
        target_type=target_type,
        target_id=target_id,
        data=dict(data or {}),
    )
