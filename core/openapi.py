"""The project's drf-spectacular AutoSchema: the error envelope of ``core.errors`` on every
error response an operation can really return, plus, on every operation, the role it needs
(``x-required-role`` and a line in the description), taken from the view's DRF permission
classes by ``core.routes.required_role``.

Which error codes an operation documents is derived from the view, not listed by hand
(drf-standardized-errors' rules, widened where our views answer more):

- 400: the operation has a parameter (query or path: a malformed path segment is refused
  with 400 ``invalid_characters``) or a request body;
- 401: the view has authentication classes (a bad or expired token is refused with 401
  even where sign-in is optional);
- 403: permission classes other than AllowAny / a lone IsAuthenticated;
- 404: path parameters or a paginator; 405 and 500: always; 406: DRF's content negotiation;
- 413: a request body (DATA_UPLOAD_MAX_MEMORY_SIZE); 415: no catch-all parser;
- 429: throttle classes;
- 503: only where the view documents it (``extend_schema(responses={503: ...})``), since
  only the view knows it depends on a provider, a cache or Google's configuration.

Every error response without a body schema (``OpenApiResponse(description=...)``) gets the
envelope as its body.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse
from drf_standardized_errors.handler import exception_handler
from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema
from rest_framework import serializers

from .routes import required_role


class ErrorItemSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="Machine-readable: `required`, `invalid`, `not_authenticated`, "
        "`token_not_valid`, `permission_denied`, `not_found`, `throttled`, "
        "`service_unavailable`, ..."
    )
    detail = serializers.CharField(help_text="Human-readable message.")
    attr = serializers.CharField(
        allow_null=True, help_text="The field or parameter at fault (validation errors), or null."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    """The JSON error envelope every 4xx/5xx of the API answers (``core.errors``)."""

    type = serializers.CharField(
        help_text="`validation_error` (400, one entry per bad field), `client_error` or "
        "`server_error`."
    )
    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    # DRF moves declared fields off the class, so this does not hide Serializer.errors.
    errors = ErrorItemSerializer(many=True)  # type: ignore[assignment]
    request_id = serializers.CharField(help_text="Also in the X-Request-ID header.")


class AutoSchema(StandardizedErrorsAutoSchema):
    def _get_error_response_serializer(self, status_code: str) -> Any:
        return ErrorEnvelopeSerializer

    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in responses or self.view.get_exception_handler() is not exception_handler:
            return False
        if status_code == "400":
            return bool(self._get_parameters()) or self._has_request_body()
        if status_code == "401":
            return bool(self.view.get_authenticators())
        if status_code == "413":
            return self._has_request_body()
        return super()._should_add_error_response(responses, status_code)

    def _has_request_body(self) -> bool:
        return self.method in ("PUT", "PATCH", "POST") and self.get_request_serializer() is not None

    def _get_response_for_code(self, serializer: Any, status_code: str, *args: Any, **kw: Any):  # type: ignore[no-untyped-def]
        if (
            int(status_code) >= 400
            and isinstance(serializer, OpenApiResponse)
            and serializer.response is None
        ):
            # An error documented by its description only: its body is the envelope.
            serializer = OpenApiResponse(
                response=ErrorEnvelopeSerializer,
                description=serializer.description,
                examples=serializer.examples,
            )
        return super()._get_response_for_code(serializer, status_code, *args, **kw)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        role, notes = required_role(type(self.view), self.method)
        operation["x-required-role"] = role
        line = f"Required role: **{role}**" + (f" ({notes})" if notes else "") + "."
        description = operation.get("description", "")
        operation["description"] = f"{description}\n\n{line}" if description else line
        return operation
