"""DRF views of stored market data: parse, authorise, call one selector/service, serialise."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ErrorDetail, NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts_services
from core import selectors as core_selectors
from core import services as core_services
from core.cache import TwoTierCache
from core.errors import ReportedValidationError
from core.pagination import BoundedCursorPagination
from core.tabular import FORMAT_PARAMETER, TABLE_RENDERERS, TableNegotiation

from . import currency, selectors, services
from .filters import AssetFilter
from .models import Asset
from .serializers import (
    AssetDetailSerializer,
    AssetSerializer,
    CandleSerializer,
    CoverageSerializer,
    EtlJobDetailSerializer,
    EtlJobSerializer,
    EtlStatusSerializer,
    GlobalMarketSerializer,
    HistoryQuerySerializer,
    ImportReportSerializer,
    ImportRequestSerializer,
    IntervalQuerySerializer,
    MarketDataQuerySerializer,
    MarketDataSerializer,
    SyncRequestSerializer,
    TaskEnqueuedSerializer,
    TopQuerySerializer,
    TrendingSerializer,
)
from .serializers_currency import VsQuerySerializer, rate_of

TOP_CATEGORIES = ("gainers", "losers", "volume", "market-cap")
ID_PARAM = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="Asset id (bitcoin) or symbol (BTC)"
)


def _asset_or_404(id_or_symbol: str) -> Asset:
    try:
        return selectors.asset_get(id_or_symbol)
    except selectors.AssetNotFound as exc:
        raise NotFound(str(exc)) from exc


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


# --- listing / detail -------------------------------------------------------------------


@extend_schema(
    tags=["markets"],
    summary="Assets with their latest quote (filter, order, page)",
    parameters=[VsQuerySerializer, FORMAT_PARAMETER],
)
class AssetListApi(generics.ListAPIView):
    serializer_class = AssetSerializer
    # ?format=csv / ?format=xlsx: the same page as a spreadsheet (core.tabular)
    renderer_classes = TABLE_RENDERERS
    content_negotiation_class = TableNegotiation
    export_filename = "cryptocurrencies"
    filter_backends = [DjangoFilterBackend]
    filterset_class = AssetFilter

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.asset_list()

    def get_serializer_context(self):  # type: ignore[no-untyped-def]
        context = super().get_serializer_context()
        context["now"] = timezone.now()
        return context

    def list(self, request: Request, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        """Answers repeat queries from a short-lived cache of the rendered page (the listing
        is public and the same for everyone; ``MARKETS_LISTING_CACHE_SECONDS``, 0 = off)."""
        ttl = settings.MARKETS_LISTING_CACHE_SECONDS
        as_json = getattr(request.accepted_renderer, "format", "json") == "json"
        key = _listing_key(request) if ttl > 0 and as_json else ""
        if key:
            read = _listing_cache().get(key)
            if read.hit and not read.stale:
                return _json_bytes(read.value, tier=read.tier)
        rate = rate_of(request.query_params)  # ONE rate lookup per request, never per row
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        if rate.vs != currency.USD:
            context["rate"] = rate
        if request.query_params.get("sparkline") == "7d":
            context["sparklines"] = selectors.sparkline_map(asset_ids=[a.pk for a in page], days=7)
        data = AssetSerializer(page, many=True, context=context).data
        if not as_json:  # ?format=csv / xlsx: the same page through its renderer, uncached
            return self.get_paginated_response(data)
        body = JSONRenderer().render(self.get_paginated_response(data).data)
        if key:
            _listing_cache().set(key, body, ttl=ttl, l1_ttl=ttl)
        return _json_bytes(body, tier="miss")


_listing_cache_instance: TwoTierCache | None = None


def _listing_cache() -> TwoTierCache:
    global _listing_cache_instance
    if _listing_cache_instance is None:
        _listing_cache_instance = TwoTierCache(prefix="listing", l1_ttl=1.0, l1_max_entries=512)
    return _listing_cache_instance


def reset_listing_cache() -> None:
    """Tests: forget the in-process tier."""
    global _listing_cache_instance
    _listing_cache_instance = None


def _listing_key(request: Request) -> str:
    # Host and scheme are in the page links (next/previous), so they are part of the key.
    raw = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _json_bytes(body: bytes, *, tier: str) -> HttpResponse:
    response = HttpResponse(body, content_type="application/json")
    response["X-Cache"] = tier
    return response


class AssetDetailApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="One asset (by id or symbol) with its latest quote",
        parameters=[ID_PARAM, VsQuerySerializer],
        responses=AssetDetailSerializer,
    )
    def get(self, request: Request, id: str) -> Response:
        asset = _asset_or_404(id)
        rate = rate_of(request.query_params)
        context: dict[str, Any] = {"now": timezone.now()}
        if rate.vs != currency.USD:
            context["rate"] = rate
        return Response(AssetDetailSerializer(asset, context=context).data)


class HistoryPagination(BoundedCursorPagination):
    ordering = "open_time"  # chronological pages


class AssetHistoryApi(generics.ListAPIView):
    serializer_class = CandleSerializer
    renderer_classes = TABLE_RENDERERS
    content_negotiation_class = TableNegotiation
    export_filename = "history"
    pagination_class = HistoryPagination
    filter_backends: list = []

    @extend_schema(
        tags=["markets"],
        summary="OHLCV candles of an asset (cursor pages, oldest first)",
        parameters=[ID_PARAM, HistoryQuerySerializer, FORMAT_PARAMETER],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        """In another currency (``?vs=``) each candle's prices at its own day's rate, with
        ``rate`` and ``rate_as_of`` (the rate's day) on every candle; volume stays in coins."""
        vs = _query(HistoryQuerySerializer, request)["vs"]
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = list(self.get_serializer(page, many=True).data)
        if vs != currency.USD:
            data, _ = currency.convert_candles(data, vs=vs, time_key="open_time")
            for row in data:
                row["vs"] = vs
        return self.get_paginated_response(data)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        asset = _asset_or_404(self.kwargs["id"])
        q = _query(HistoryQuerySerializer, self.request)
        return selectors.candles(
            asset=asset, interval=q["interval"], start=q["start"], end=q["end"]
        ).only("open_time", "open", "high", "low", "close", "volume", "source")


class AssetCoverageApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Expected vs present candles and the list of gaps (never filled)",
        parameters=[ID_PARAM, IntervalQuerySerializer],
        responses=CoverageSerializer,
    )
    def get(self, request: Request, id: str) -> Response:
        asset = _asset_or_404(id)
        q = _query(IntervalQuerySerializer, request)
        return Response(CoverageSerializer(selectors.candle_coverage(asset=asset, **q)).data)


class TopAssetsApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Top gainers, losers, volume or market cap",
        parameters=[
            OpenApiParameter("category", str, OpenApiParameter.PATH, enum=list(TOP_CATEGORIES)),
            TopQuerySerializer,
        ],
        responses=AssetSerializer(many=True),
    )
    def get(self, request: Request, category: str) -> Response:
        if category not in TOP_CATEGORIES:
            raise ValidationError({"category": f"one of {', '.join(TOP_CATEGORIES)}"})
        q = _query(TopQuerySerializer, request)
        assets = selectors.top_movers(category=category, window=q["window"], limit=q["limit"])
        return Response(AssetSerializer(assets, many=True, context={"now": timezone.now()}).data)


# --- whole market -----------------------------------------------------------------------


class MarketGlobalApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Total market cap, volume and dominance",
        responses=GlobalMarketSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(GlobalMarketSerializer(services.market_global()).data)


class MarketTrendingApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Trending coins (provider), else our top 24h gainers",
        parameters=[MarketDataQuerySerializer],
        responses=TrendingSerializer,
    )
    def get(self, request: Request) -> Response:
        q = _query(MarketDataQuerySerializer, request)
        trending = services.market_trending(limit=q["limit"])
        return Response(TrendingSerializer(trending).data)


class MarketDataApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Global figures plus the top assets by rank, in one call",
        parameters=[MarketDataQuerySerializer],
        responses=MarketDataSerializer,
    )
    def get(self, request: Request) -> Response:
        q = _query(MarketDataQuerySerializer, request)
        assets = list(selectors.asset_list()[: q["limit"]])
        context = {"now": timezone.now()}
        return Response(
            {
                "market": GlobalMarketSerializer(services.market_global()).data,
                "assets": AssetSerializer(assets, many=True, context=context).data,
            }
        )


# --- staff: sync and import -------------------------------------------------------------


def _audit(request: Request, action: str, **fields) -> None:  # type: ignore[no-untyped-def]
    """Staff actions leave a row in the audit log (accounts.AuditEvent), actor = the caller."""
    accounts_services.audit_record(
        action=action, actor=request.user, request=request._request, **fields
    )


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
        _audit(request, "markets.sync", data=dict(s.validated_data))
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
        _audit(
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


# --- ETL jobs (django-celery-beat rows) -------------------------------------------------


def _job_or_404(job_id: int):  # type: ignore[no-untyped-def]
    job = core_selectors.periodic_task_get(job_id=job_id)
    if job is None:
        raise NotFound("no such job")
    return job


class EtlJobListApi(APIView):
    @extend_schema(
        tags=["etl"], summary="Periodic jobs (beat schedule)", responses=EtlJobSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        return Response(
            EtlJobSerializer(list(core_selectors.periodic_tasks()[:500]), many=True).data
        )


class EtlJobDetailApi(APIView):
    @extend_schema(
        tags=["etl"], summary="One job with its recent runs", responses=EtlJobDetailSerializer
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = _job_or_404(job_id)
        runs = core_selectors.job_runs_for_task(task=job.task, limit=20)
        return Response(EtlJobDetailSerializer(job, context={"runs": runs}).data)


class EtlJobRunApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["etl"],
        summary="Run a job now (staff); enqueued after commit",
        request=None,
        responses={202: TaskEnqueuedSerializer},
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = _job_or_404(job_id)
        with transaction.atomic():
            task_id = core_services.periodic_job_run_now(job_id=job.pk)
            _audit(
                request, "etl.job_run", target_type="job", target_id=job.pk, data={"job": job.name}
            )
        return Response(
            {"task_id": task_id, "task": job.task, "status": "queued"},
            status=status.HTTP_202_ACCEPTED,
        )


class _EtlJobToggleApi(APIView):
    permission_classes = [IsAdminUser]
    enabled = True

    @extend_schema(tags=["etl"], request=None, responses=EtlJobSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        _job_or_404(job_id)
        job = core_services.periodic_job_set_enabled(job_id=job_id, enabled=self.enabled)
        action = "etl.job_enabled" if self.enabled else "etl.job_disabled"
        _audit(request, action, target_type="job", target_id=job_id, data={"job": job.name})
        return Response(EtlJobSerializer(job).data)


class EtlJobEnableApi(_EtlJobToggleApi):
    enabled = True


class EtlJobDisableApi(_EtlJobToggleApi):
    enabled = False


class EtlStatusApi(APIView):
    @extend_schema(
        tags=["etl"],
        summary="Freshness of quotes/candles and recent job runs",
        responses=EtlStatusSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(EtlStatusSerializer(selectors.etl_status()).data)
