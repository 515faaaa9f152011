"""Staff writes: queue a quote sync, upload an OHLCV CSV (validated whole, written whole or
not at all)."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ErrorDetail
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ReportedValidationError
from markets import services
from markets.serializers.ingestion import (
    ImportReportSerializer,
    ImportRequestSerializer,
    SyncRequestSerializer,
    TaskEnqueuedSerializer,
)

from . import staff_audit


class SyncApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["markets"],
        summary="Enqueue a quote sync now (staff); runs after this request commits",
        request=SyncRequestSerializer,
        responses={202: TaskEnqueuedSerializer},
    )
    def post(self, request: Request) -> Response:
        s = SyncRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        task_id = services.sync_enqueue(**s.validated_data)
        staff_audit(request, "markets.sync", data=dict(s.validated_data))
        return Response(
            {"task_id": task_id, "task": "markets.sync_quotes", "status": "queued"},
            status=status.HTTP_202_ACCEPTED,
        )


class ImportApi(APIView):
    permission_classes = [IsAdminUser]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["markets"],
        summary="Upload an OHLCV CSV (staff): validated whole, written whole or not at all",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            201: ImportReportSerializer,
            400: OpenApiResponse(description="Validation envelope plus `report` naming bad rows"),
        },
    )
    def post(self, request: Request) -> Response:
        s = ImportRequestSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        upload = s.validated_data["file"]
        report = services.import_upload(
            data=upload.read(),
            name=upload.name or "upload.csv",
            interval=s.validated_data["interval"],
            symbol=s.validated_data["symbol"],
        )
        body = report.as_dict()
        staff_audit(
            request,
            "markets.import",
            outcome="success" if report.ok else "failure",
            target_type="asset",
            target_id=s.validated_data["symbol"] or "",
            data={"file": upload.name or "upload.csv", "interval": s.validated_data["interval"]},
        )
        if report.ok:
            return Response(body, status=status.HTTP_201_CREATED)
        rows = [
            ErrorDetail(f"line {e['line']}: {e['message']}", code="invalid_row")
            for f in body["files"]
            for e in f["errors"]
        ]
        raise ReportedValidationError(
            {"file": rows or [ErrorDetail("file rejected", code="invalid")]},
            extra={"report": body},
        )
