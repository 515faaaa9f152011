"""Tables for spreadsheets: ``?format=csv`` and ``?format=xlsx`` on any DRF list endpoint.

An app adds them to a view with ``renderer_classes = TABLE_RENDERERS`` and
``content_negotiation_class = TableNegotiation``; DRF's ``format`` query parameter (or the
``Accept`` header) picks one, and an unknown ``format`` is a 400 naming it (DRF says 404).
The rows are the page's ``results`` (or the list itself); nested objects become dotted
columns (``quote.price``), lists a JSON cell.
Errors (status >= 400) keep the project's JSON envelope. Text cells that a spreadsheet would
run as a formula (starting with ``= + - @``, tab or CR) are prefixed with ``'`` (OWASP CSV
injection). Large tables stream with ``stream_csv`` instead of going through a renderer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer

from core.signals import data_exported

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _flatten(row: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in row.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        elif isinstance(value, list | tuple):
            flat[key] = json.dumps(value, default=str)
        else:
            flat[key] = value
    return flat


def rows_of(data: Any) -> list[dict[str, Any]]:
    """The table inside a DRF response body: a page's ``results``, a list, or one object."""
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]
    if isinstance(data, Mapping):
        data = [data]
    return [_flatten(row) if isinstance(row, Mapping) else {"value": row} for row in data or []]


def columns_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(name for row in rows for name in row))


def safe_cell(value: Any) -> Any:
    """Numbers stay numbers; text that would start a formula is quoted."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(safe_cell(value))


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([_text(row.get(name)) for name in columns])


def export_announce(request: Any, *, format: str, export: str, rows: int | None) -> None:
    """Tell the apps above (the audit log) that a signed-in user took a table away."""
    django_request = getattr(request, "_request", request)  # DRF's Request or Django's
    if django_request is not None and getattr(django_request.user, "is_authenticated", False):
        data_exported.send(
            sender="core", request=django_request, format=format, export=export, rows=rows
        )


def stream_csv(
    *,
    rows: Iterable[Mapping[str, Any]],
    columns: list[str],
    filename: str,
    request: Any = None,
) -> StreamingHttpResponse:
    """A CSV written row by row as the client reads it (memory stays flat for big ranges).
    ``rows`` should be a lazy iterator (e.g. ``queryset.values(...).iterator()``); with
    ``request`` the download is announced (rows unknown until streamed: None)."""
    export_announce(request, format="csv", export=filename.rsplit(".", 1)[0], rows=None)
    response = StreamingHttpResponse(csv_lines(rows, columns), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def file_response(
    body: bytes, *, content_type: str, filename: str, inline: bool = False
) -> HttpResponse:
    """A finished document (PDF report, spreadsheet) with its ``Content-Disposition``:
    ``inline`` opens in the browser's viewer, otherwise it downloads as ``filename``."""
    response = HttpResponse(body, content_type=content_type)
    kind = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{kind}; filename="{filename}"'
    return response


class _TableRenderer(BaseRenderer):
    def _error(self, data: Any, context: Mapping[str, Any] | None) -> bytes | None:
        response = (context or {}).get("response")
        if response is None or response.status_code < 400:
            return None
        response["Content-Type"] = "application/json"
        return JSONRenderer().render(data)

    def _filename(self, context: Mapping[str, Any] | None) -> str:
        view = (context or {}).get("view")
        name = getattr(view, "export_filename", None) or "export"
        return f"{name}.{self.format}"

    def _attach(self, context: Mapping[str, Any] | None, rows: int) -> None:
        response = (context or {}).get("response")
        if response is not None:
            filename = self._filename(context)
            response["Content-Disposition"] = f'attachment; filename="{filename}"'
        export_announce(
            (context or {}).get("request"),
            format=str(self.format),
            export=self._filename(context).rsplit(".", 1)[0],
            rows=rows,
        )


class CSVRenderer(_TableRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        error = self._error(data, renderer_context)
        if error is not None:
            return error
        rows = rows_of(data)
        self._attach(renderer_context, len(rows))
        return "".join(csv_lines(rows, columns_of(rows))).encode()


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, bool | int | float | Decimal) or value is None:
        return float(value) if isinstance(value, Decimal) else value
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value  # Excel has no zones (UTC)
    if isinstance(value, date):
        return value
    return safe_cell(str(value))


class XLSXRenderer(_TableRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        error = self._error(data, renderer_context)
        if error is not None:
            return error
        # deferred: openpyxl costs ~1 s at import and only an xlsx download needs it
        from openpyxl import Workbook

        rows = rows_of(data)
        self._attach(renderer_context, len(rows))
        columns = columns_of(rows)
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("data")
        sheet.append(columns)
        for row in rows:
            sheet.append([_xlsx_value(row.get(name)) for name in columns])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()


#: what a spreadsheet-capable endpoint renders (JSON first: the default)
TABLE_RENDERERS = [JSONRenderer, CSVRenderer, XLSXRenderer]
TABLE_FORMATS = ("json", "csv", "xlsx")

#: documents ``?format=`` on an operation (``extend_schema(parameters=[FORMAT_PARAMETER])``)
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    str,
    OpenApiParameter.QUERY,
    enum=list(TABLE_FORMATS),
    required=False,
    description="json (default), csv or xlsx (a spreadsheet of the same rows; errors stay JSON)",
)


class TableNegotiation(DefaultContentNegotiation):
    """DRF answers an unknown ``?format=`` with a bare 404; a spreadsheet endpoint says which
    formats it has instead (400 on ``format``, in the envelope)."""

    def filter_renderers(self, renderers: Any, format: Any) -> Any:
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            known = ", ".join(r.format for r in renderers)
            raise ValidationError({"format": [f"Unknown format {format!r}; one of: {known}."]})
        return matching


def wants_table(request: Any) -> bool:
    """True when the negotiated renderer is CSV or XLSX (the view may build flat rows)."""
    return getattr(getattr(request, "accepted_renderer", None), "format", "json") in {"csv", "xlsx"}


def wants_format(request: Any) -> str:
    return str(getattr(getattr(request, "accepted_renderer", None), "format", "json"))
