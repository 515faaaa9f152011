"""Assets with their latest quote: listing (cached page), detail, history, coverage, top
movers."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import generics
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.cache import TwoTierCache
from core.fastpath import anonymous_json_get, json_bytes, page_key
from core.pagination import BoundedCursorPagination
from core.tabular import FORMAT_PARAMETER, TABLE_RENDERERS, TableNegotiation
from markets import currency, selectors
from markets.filters import AssetFilter
from markets.history_cache import HISTORY
from markets.models import Asset
from markets.payloads import HISTORY_FIELDS, history_row
from markets.serializers.assets import (
    AssetDetailSerializer,
    AssetSerializer,
    CandleSerializer,
    CoverageSerializer,
    HistoryQuerySerializer,
    IntervalQuerySerializer,
    TopQuerySerializer,
)
from markets.serializers.currency import VsQuerySerializer, rate_of

from . import query_data

TOP_CATEGORIES = ("gainers", "losers", "volume", "market-cap")


ID_PARAM = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="Asset id (bitcoin) or symbol (BTC)"
)


def _asset_or_404(id_or_symbol: str) -> Asset:
    try:
        return selectors.asset_get(id_or_symbol)
    except selectors.AssetNotFound as exc:
        raise NotFound(str(exc)) from exc


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

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Hot path (WSGI): an L1 hit answers before DRF's request wrapping."""
        return _listing_l1_hit(request) or super().dispatch(request, *args, **kwargs)

    @staticmethod
    async def async_fast_path(request: HttpRequest, **kwargs: Any) -> HttpResponse | None:
        """Hot path (ASGI): the same L1 hit without a sync view's thread hop."""
        return _listing_l1_hit(request)

    def list(self, request: Request, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        """Answers repeat queries from a short-lived cache of the rendered page (the listing
        is public and the same for everyone; ``MARKETS_LISTING_CACHE_SECONDS``, 0 = off)."""
        ttl = settings.MARKETS_LISTING_CACHE_SECONDS
        as_json = getattr(request.accepted_renderer, "format", "json") == "json"
        key = page_key(request) if ttl > 0 and as_json else ""
        if key:
            read = _listing_cache().get(key)
            if read.hit and not read.stale:
                return json_bytes(read.value, tier=read.tier)
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
        return json_bytes(body, tier="miss")


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


def _listing_l1_hit(request: HttpRequest) -> HttpResponse | None:
    if settings.MARKETS_LISTING_CACHE_SECONDS <= 0 or not anonymous_json_get(request):
        return None
    body = _listing_cache().peek_l1(page_key(request))
    return json_bytes(body, tier="l1") if body is not None else None


def _history_l1_hit(request: HttpRequest) -> HttpResponse | None:
    # Only USD pages are ever stored, each under its full URL: no need to parse ``vs`` here.
    if settings.MARKETS_HISTORY_CACHE_SECONDS <= 0 or not anonymous_json_get(request):
        return None
    body = HISTORY.peek_l1("page", (page_key(request),))
    return json_bytes(body, tier="l1") if body is not None else None


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

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Hot path (WSGI): an L1 hit answers before DRF's request wrapping."""
        return _history_l1_hit(request) or super().dispatch(request, *args, **kwargs)

    @staticmethod
    async def async_fast_path(request: HttpRequest, **kwargs: Any) -> HttpResponse | None:
        """Hot path (ASGI): the same L1 hit without a sync view's thread hop."""
        return _history_l1_hit(request)

    @extend_schema(
        tags=["markets"],
        summary="OHLCV candles of an asset (cursor pages, oldest first)",
        parameters=[ID_PARAM, HistoryQuerySerializer, FORMAT_PARAMETER],
    )
    def get(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args, **kwargs) -> HttpResponse:  # type: ignore[no-untyped-def]
        """In another currency (``?vs=``) each candle's prices at its own day's rate, with
        ``rate`` and ``rate_as_of`` (the rate's day) on every candle; volume stays in coins.

        USD pages as JSON are served from ``markets.history_cache`` (a candle write bumps its
        generation; ``MARKETS_HISTORY_CACHE_SECONDS``, 0 = off): other currencies follow
        intraday rates and spreadsheets are rare, so they are built every time."""
        vs = query_data(HistoryQuerySerializer, request)["vs"]
        as_json = getattr(request.accepted_renderer, "format", "json") == "json"
        if vs == currency.USD and as_json and settings.MARKETS_HISTORY_CACHE_SECONDS > 0:
            body, tier = HISTORY.cached_with_tier(
                "page", (page_key(request),), lambda: self._page_json(vs)
            )
            return json_bytes(body, tier=tier)
        return self._page(vs)

    def _page_json(self, vs: str) -> bytes:
        return JSONRenderer().render(self._page(vs).data)

    def _page(self, vs: str) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        # CandleSerializer documents the shape; rows are built without it (payloads.py)
        data = [history_row(row) for row in page]
        if vs != currency.USD:
            data, _ = currency.convert_candles(data, vs=vs, time_key="open_time")
            for row in data:
                row["vs"] = vs
        return self.get_paginated_response(data)

    def get_queryset(self):  # type: ignore[no-untyped-def]
        asset = _asset_or_404(self.kwargs["id"])
        q = query_data(HistoryQuerySerializer, self.request)
        return selectors.candles(
            asset=asset, interval=q["interval"], start=q["start"], end=q["end"]
        ).values(*HISTORY_FIELDS)


class AssetCoverageApi(APIView):
    @extend_schema(
        tags=["markets"],
        summary="Expected vs present candles and the list of gaps (never filled)",
        parameters=[ID_PARAM, IntervalQuerySerializer],
        responses=CoverageSerializer,
    )
    def get(self, request: Request, id: str) -> Response:
        asset = _asset_or_404(id)
        q = query_data(IntervalQuerySerializer, request)
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
        q = query_data(TopQuerySerializer, request)
        assets = selectors.top_movers(category=category, window=q["window"], limit=q["limit"])
        return Response(AssetSerializer(assets, many=True, context={"now": timezone.now()}).data)
