"""core.tabular: ?format=csv / ?format=xlsx on a DRF list endpoint, streaming CSV, errors
kept in the JSON envelope, and spreadsheet formula injection neutralised. The rows are
hand-made in this test (a tiny in-memory endpoint), not recorded data."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import path
from openpyxl import load_workbook
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.tabular import TABLE_RENDERERS, TableNegotiation, stream_csv

ROWS = [
    {"id": "bitcoin", "quote": {"price": 64000.5, "source": "replay"}, "tags": ["pow"]},
    {"id": "evil", "quote": {"price": -1.0, "source": '=HYPERLINK("http://x")'}, "tags": []},
]


class TableView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = TABLE_RENDERERS
    content_negotiation_class = TableNegotiation
    export_filename = "listing"

    def get(self, request: Request) -> Response:
        if request.query_params.get("bad"):
            raise exceptions.ValidationError({"bad": ["Not allowed."]})
        return Response({"count": 2, "next": None, "previous": None, "results": ROWS})


def streamed(request):  # type: ignore[no-untyped-def]
    rows = ({"n": i, "label": f"row {i}"} for i in range(10_000))
    return stream_csv(rows=rows, columns=["n", "label"], filename="big.csv")


urlpatterns = [path("table", TableView.as_view()), path("big.csv", streamed)]
pytestmark = pytest.mark.urls(__name__)


def test_csv_has_a_header_flattened_columns_and_every_row(client):
    response = client.get("/table", {"format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == 'attachment; filename="listing.csv"'
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0] == ["id", "quote.price", "quote.source", "tags"]
    assert table[1] == ["bitcoin", "64000.5", "replay", '["pow"]']


def test_formula_cells_are_quoted_but_negative_numbers_stay_numbers(client):
    table = list(csv.reader(io.StringIO(client.get("/table?format=csv").content.decode())))
    assert table[2][1] == "-1.0"
    assert table[2][2].startswith("'=HYPERLINK")


def test_xlsx_opens_as_a_workbook_with_numeric_cells(client):
    response = client.get("/table", {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="listing.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("id", "quote.price", "quote.source", "tags")
    assert values[1][:2] == ("bitcoin", 64000.5)
    assert values[2][2].startswith("'=")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_errors_keep_the_json_envelope(client, fmt):
    response = client.get("/table", {"format": fmt, "bad": "1"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["attr"] == "bad"


def test_unknown_format_is_a_400_naming_format_and_the_choices(client):
    response = client.get("/table", {"format": "pdf"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["errors"][0]
    assert error["attr"] == "format"
    assert "csv" in error["detail"] and "xlsx" in error["detail"]


def test_large_csv_streams_row_by_row(client):
    response = client.get("/big.csv")
    assert response.streaming
    chunks = list(response.streaming_content)
    assert len(chunks) == 10_001  # header + one chunk per row, never the whole file at once
    assert chunks[0] == b"n,label\r\n"
