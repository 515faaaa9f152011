"""Every API route with the role its DRF permission classes require, per HTTP method.

One table drives three things: the per-operation ``x-required-role`` in the OpenAPI schema
(``core.openapi``), the role table in ``docs/roles.md`` (``scripts/role_table.py``) and the
test that fails when a route's permission classes and that table disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.views import APIView

ROLE_ORDER = ("anyone", "user", "analyst", "staff", "admin")
_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class RouteRole:
    path: str
    method: str
    role: str
    notes: str


def _role_of(permission: Any) -> str:
    declared = getattr(permission, "required_role", None)
    if declared:
        return str(declared)
    if isinstance(permission, IsAdminUser):  # DRF's: is_staff
        return "staff"
    if isinstance(permission, IsAuthenticated):
        return "user"
    return "anyone"


def required_role(view_class: type[APIView], method: str) -> tuple[str, str]:
    """(role, notes) for one method of a DRF view, from the permission classes it would use.
    ``get_permissions`` may look at the method, so it gets a stand-in request with it."""
    view = view_class()
    view.request = SimpleNamespace(method=method.upper())  # type: ignore[assignment]
    view.args, view.kwargs, view.format_kwarg = (), {}, None
    permissions = view.get_permissions()
    role = max((_role_of(p) for p in permissions), key=ROLE_ORDER.index, default="anyone")
    notes = sorted({n for p in permissions if (n := getattr(p, "role_note", ""))})
    return role, "; ".join(notes)


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def api_routes(prefix: str = "api/v1/") -> list[RouteRole]:
    """Every DRF route under ``prefix`` (all its methods), sorted by path then method."""
    rows = []
    for path, callback in _walk(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if not path.startswith(prefix) or view_class is None:
            continue
        if not issubclass(view_class, APIView):
            continue
        for method in _METHODS:
            if hasattr(view_class, method):
                role, notes = required_role(view_class, method)
                rows.append(RouteRole("/" + path, method.upper(), role, notes))
    return sorted(set(rows), key=lambda r: (r.path, _METHODS.index(r.method.lower())))
