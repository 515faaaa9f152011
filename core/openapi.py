"""The project's drf-spectacular AutoSchema: drf-standardized-errors' error responses plus,
on every operation, the role it needs (``x-required-role`` and a line in the description),
taken from the view's DRF permission classes by ``core.routes.required_role``."""

from __future__ import annotations

from typing import Any

from drf_standardized_errors.openapi import AutoSchema as StandardizedErrorsAutoSchema

from .routes import required_role


class AutoSchema(StandardizedErrorsAutoSchema):
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
