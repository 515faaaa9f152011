"""One JSON error envelope for every 4xx/5xx.

Shape (drf-standardized-errors' format plus the status and the request id)::

    {"type": "client_error", "status": 404, "request_id": "9f0c...",
     "errors": [{"code": "not_found", "detail": "Not found.", "attr": null}]}

``type`` is ``validation_error`` (400 with one entry per bad field, ``attr`` naming it),
``client_error`` or ``server_error``. DRF views get it through the exception handler;
everything else (unknown ``/api/`` paths, Django's 404/500 handlers) through ``envelope()``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from django_guid import get_guid
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.types import ErrorResponse
from rest_framework import exceptions, status
from rest_framework.response import Response


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "payload_too_large"


class ServiceUnavailable(exceptions.APIException):
    """503 with ``Retry-After``: a dependency we cannot answer without is down."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Service temporarily unavailable, try again later."
    default_code = "service_unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 30) -> None:
        super().__init__(detail)
        self.wait = retry_after


class ReportedValidationError(exceptions.ValidationError):
    """A 400 whose envelope carries a report beside its errors (``extra``: e.g. an import's
    ``report`` naming every bad row); the errors are built from ``detail`` as for any 400."""

    def __init__(self, detail: Any, *, extra: dict[str, Any]) -> None:
        super().__init__(detail)
        self.extra = extra


class EnvelopeExceptionHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
            return PayloadTooLarge()
        return super().convert_known_exceptions(exc)

    def get_headers(self, exc: exceptions.APIException) -> dict:
        headers = super().get_headers(exc)
        wait = getattr(exc, "wait", None)
        if wait is not None and "Retry-After" not in headers:
            # DRF drops a zero wait; a client still needs the header.
            headers["Retry-After"] = str(max(int(wait), 1))
        return headers


class EnvelopeFormatter(ExceptionFormatter):
    def format_error_response(self, error_response: ErrorResponse) -> Any:
        body = asdict(error_response)
        for error in body["errors"]:
            # a Django form/filter ValidationError raised without a code: the envelope
            # promises a machine-readable string
            error["code"] = error["code"] or "invalid"
        return {
            "type": body["type"],
            "status": self.exc.status_code,
            "errors": body["errors"],
            "request_id": get_guid(),
            **getattr(self.exc, "extra", {}),
        }


def envelope_body(
    *, status_code: int, code: str, detail: str, attr: str | None = None
) -> dict[str, Any]:
    """The envelope's fields for one error (a view may add its own report beside them)."""
    return {
        "type": "client_error" if status_code < 500 else "server_error",
        "status": status_code,
        "errors": [{"code": code, "detail": detail, "attr": attr}],
        "request_id": get_guid(),
    }


def envelope(
    *,
    status_code: int,
    code: str,
    detail: str,
    attr: str | None = None,
    headers: dict[str, str] | None = None,
) -> JsonResponse:
    """The envelope as a plain Django response, for code paths outside DRF."""
    body = envelope_body(status_code=status_code, code=code, detail=detail, attr=attr)
    return JsonResponse(body, status=status_code, headers=headers)


# A health report that says "down" asks the client to come back after this long.
REPORT_RETRY_AFTER_SECONDS = 30


def report_response(body: Any, *, ok: bool) -> Response:
    """A health report: 200, or 503 with ``Retry-After`` (the body still says what is down)."""
    if ok:
        return Response(body)
    return Response(body, status=503, headers={"Retry-After": str(REPORT_RETRY_AFTER_SECONDS)})
