"""Role-based DRF permission classes any app may use (roles: user < analyst < staff < admin).

Roles are the Django groups ``staff``/``admin`` managed by ``accounts``; the ``is_staff`` and
``is_superuser`` flags, which the role service keeps in step, count as well.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request


def _group_names(user: Any) -> set[str]:
    cached = getattr(user, "_role_group_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_group_names = cached
    return cached


def has_role(user: Any, role: str) -> bool:
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if role == "user":
        return True
    if user.is_superuser:
        return True
    if role == "analyst":
        return bool(user.is_staff) or bool(_group_names(user) & {"analyst", "staff", "admin"})
    if role == "staff":
        return bool(user.is_staff) or bool(_group_names(user) & {"staff", "admin"})
    if role == "admin":
        return "admin" in _group_names(user)
    return False


class IsAnalyst(BasePermission):
    """Analyst, staff or admin (backtests, operational figures); an ordinary user gets 403."""

    message = "Analysts only."
    required_role = "analyst"  # read by core.routes (the role table, the OpenAPI schema)

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_role(request.user, "analyst")


class IsStaff(BasePermission):
    """Staff or admin; an ordinary user gets 403."""

    message = "Staff only."
    required_role = "staff"

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_role(request.user, "staff")


class IsAdmin(BasePermission):
    message = "Administrators only."
    required_role = "admin"

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_role(request.user, "admin")


# --- operator endpoints (/metrics, /health/detailed) ------------------------------------------


def client_address(request: Any) -> str:
    """The client's address behind ``NUM_PROXIES`` trusted proxies (as DRF's throttles see it)."""
    meta = request.META
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return str(meta.get("REMOTE_ADDR", ""))


def ops_allowed(request: Any) -> bool:
    """``Authorization: Bearer <OPS_TOKEN>`` (constant-time), or a client in
    ``OPS_ALLOWED_NETWORKS``; with neither configured, loopback only."""
    token = settings.OPS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    bearer = header[7:].strip() if header.startswith("Bearer ") else ""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return True
    networks = settings.OPS_ALLOWED_NETWORKS or ([] if token else ["127.0.0.0/8", "::1/128"])
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(n, strict=False) for n in networks)


class IsOperator(BasePermission):
    """DRF face of ``ops_allowed`` (a 403 in the envelope otherwise)."""

    message = "Operator endpoint: send the OPS_TOKEN bearer or call from an allowed network."

    def has_permission(self, request: Request, view: Any) -> bool:
        return ops_allowed(request)
