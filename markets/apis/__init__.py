"""DRF views of `markets`, split by sub-domain: ``assets``, ``market`` (whole market),
``ingestion`` (staff sync and import), ``etl`` (jobs), ``prices`` (live, cache-first),
``providers`` (provider operations), ``currency``. Each parses, authorises, calls one selector
or service and serialises; the routes are in ``markets.urls``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from accounts import services as accounts_services


def query_data(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request's query parameters validated by ``serializer_class`` (a 400 naming the field)."""
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


def staff_audit(request: Request, action: str, **fields: Any) -> None:
    """Staff actions leave a row in the audit log (accounts.AuditEvent), actor = the caller."""
    accounts_services.audit_record(
        action=action,
        actor=request.user,  # type: ignore[arg-type]
        request=request._request,
        **fields,
    )
