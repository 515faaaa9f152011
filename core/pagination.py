"""Bounded pagination: no client can ask for an unbounded page, or craft a cursor that crashes."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import timezone
from rest_framework.exceptions import ParseError
from rest_framework.pagination import CursorPagination, PageNumberPagination

from .parsers import CONTROL_CHARACTERS


class BoundedPageNumberPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class InvalidCursor(ParseError):
    default_detail = "Invalid cursor."
    default_code = "invalid_cursor"


class BoundedCursorPagination(CursorPagination):
    """For time series: stable under inserts, O(1) per page.

    A cursor is base64 of ``o`` (offset), ``r`` (reverse) and ``p`` (the position, compared
    with the ordering field in SQL). DRF checks ``o`` and ``r`` but passes ``p`` to the
    database as it came: a crafted one was a 500. Here every decoded value is checked against
    the ordering field's own type, and any bad cursor is a 400 (DRF: 404)."""

    page_size = 500
    page_size_query_param = "page_size"
    max_page_size = 5000
    ordering = "-open_time"
    max_position_length = 256

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Any) -> Any:
        try:
            cursor = super().decode_cursor(request)
        except Exception as exc:  # DRF's NotFound, or a UnicodeDecodeError it lets through
            raise InvalidCursor() from exc
        if cursor is None or cursor.position is None:
            return cursor
        position: Any = str(cursor.position)  # DRF's stub says int; it is the decoded text
        if len(position) > self.max_position_length or CONTROL_CHARACTERS.search(position):
            raise InvalidCursor()
        ordering = self.ordering if isinstance(self.ordering, str) else self.ordering[0]
        try:
            field = self._model._meta.get_field(ordering.lstrip("-"))
        except (AttributeError, FieldDoesNotExist):
            return cursor
        try:
            value = field.to_python(position)
            if hasattr(value, "tzinfo") and value.tzinfo is None and hasattr(value, "hour"):
                value = timezone.make_aware(value, UTC)
            field.get_prep_value(value)
        except (ValidationError, ValueError, TypeError, OverflowError) as exc:
            raise InvalidCursor() from exc
        return cursor._replace(position=str(value) if value is not None else None)  # type: ignore[arg-type]
