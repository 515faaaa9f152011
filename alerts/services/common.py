"""Errors and limits shared by the alerts services."""

from __future__ import annotations

from django.core.exceptions import ValidationError


def invalid(field: str, message: str) -> ValidationError:
    """A 400 that names the field (the error handler turns it into the envelope)."""
    return ValidationError({field: [message]})
