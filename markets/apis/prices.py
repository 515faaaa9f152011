"""Live prices, cache-first.

The price reads are public, cache-first and skip authentication and DRF throttling: a hit is a
dict lookup returning pre-rendered bytes, and a per-request Redis throttle would halve their
throughput (rate-limit these at the reverse proxy)."""

from __future__ import annotations

import re
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ServiceUnavailable
from markets import live, selectors
from markets.serializers.prices import (
    MAX_IDS,
    SLUG,
    HistoryQuerySerializer,
    MarketQuerySerializer,
    MarketSerializer,
    PriceHistorySerializer,
    PricesQuerySerializer,
    PricesSerializer,
    QuickMarketQuerySerializer,
    QuickPricesQuerySerializer,
)

from . import query_data

_503 = OpenApiResponse(description="No data at all: error envelope with Retry-After")


def _bytes_response(result: live.LiveBody) -> HttpResponse:
    response = HttpResponse(result.body, content_type="application/json")
    response["X-Cache"] = result.tier
    response["Cache-Control"] = "public, max-age=1"
    return response


def _unavailable(exc: live.NoPriceData) -> ServiceUnavailable:
    return ServiceUnavailable(str(exc), retry_after=exc.retry_after)


class _CachedReadView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []


_VS = re.compile(r"^[a-z0-9]{2,16}$")


def _fast_prices_key(request: HttpRequest) -> str | None:
    """The cache key of a plain, valid ``/prices`` query, or None (then DRF parses it fully)."""
    params = request.GET
    if len(params) > 3 or any(k not in ("ids", "vs", "limit") for k in params):
        return None
    # Any vs: a body is only ever cached under a currency that passed validation when built.
    vs = params.get("vs", "usd").strip().lower()
    if not _VS.match(vs) or "limit" in params:
        return None
    raw = params.get("ids")
    if raw is None:
        return live.prices_key(ids=None, vs=vs, limit=10)
    ids = [p.strip().lower() for p in raw.split(",") if p.strip()]
    if not ids or len(ids) > MAX_IDS or not all(SLUG.match(i) for i in ids):
        return None
    return live.prices_key(ids=ids, vs=vs, limit=10)


def _prices_l1_hit(request: HttpRequest) -> HttpResponse | None:
    """An L1 hit of a plain ``/prices`` query, answered before DRF's request wrapping."""
    if request.method != "GET":
        return None
    key = _fast_prices_key(request)
    body = live.price_cache().peek_l1(key) if key else None
    return _bytes_response(live.LiveBody(body, "l1")) if body is not None else None


class PricesApi(_CachedReadView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        """Hot path (WSGI): an L1 hit answers before DRF's request wrapping."""
        return _prices_l1_hit(request) or super().dispatch(request, *args, **kwargs)

    @staticmethod
    async def async_fast_path(request: HttpRequest, **kwargs: Any) -> HttpResponse | None:
        """Hot path (ASGI): the same L1 hit without a sync view's thread hop (see
        core.middleware.async_fast_path_middleware); a miss runs the view as usual."""
        return _prices_l1_hit(request)

    @extend_schema(
        tags=["prices"],
        summary="Price snapshot of assets (cache-first), with provenance on every datum",
        parameters=[PricesQuerySerializer],
        responses={
            200: PricesSerializer,
            404: OpenApiResponse(description="None of the ids is a known asset"),
            503: _503,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        q = query_data(PricesQuerySerializer, request)
        try:
            return _bytes_response(
                live.prices_snapshot(ids=q.get("ids"), vs=q["vs"], limit=q["limit"])
            )
        except live.UnknownAssets as exc:
            raise NotFound(str(exc)) from exc
        except live.NoPriceData as exc:
            raise _unavailable(exc) from exc
        except DatabaseError as exc:
            raise ServiceUnavailable("Prices are unavailable right now.", retry_after=10) from exc


class PricesMarketApi(_CachedReadView):
    @extend_schema(
        tags=["prices"],
        summary="Top assets by rank with their latest quote (cache-first)",
        parameters=[MarketQuerySerializer],
        responses={200: MarketSerializer, 503: _503},
    )
    def get(self, request: Request) -> HttpResponse:
        q = query_data(MarketQuerySerializer, request)
        try:
            return _bytes_response(live.market_snapshot(limit=q["limit"], vs=q["vs"]))
        except live.NoPriceData as exc:
            raise _unavailable(exc) from exc
        except DatabaseError as exc:
            raise ServiceUnavailable("Prices are unavailable right now.", retry_after=10) from exc


class PricesHistoryApi(_CachedReadView):
    @extend_schema(
        tags=["prices"],
        summary="OHLCV history of one asset over the last N days (cache-first)",
        parameters=[
            OpenApiParameter("id", str, OpenApiParameter.PATH, description="Asset id or symbol"),
            HistoryQuerySerializer,
        ],
        responses={
            200: PriceHistorySerializer,
            404: OpenApiResponse(description="Unknown asset"),
            503: _503,
        },
    )
    def get(self, request: Request, id: str) -> HttpResponse:
        q = query_data(HistoryQuerySerializer, request)
        try:
            asset = selectors.asset_get(id)
        except selectors.AssetNotFound as exc:
            raise NotFound(str(exc)) from exc
        try:
            return _bytes_response(
                live.price_history(asset=asset, interval=q["interval"], days=q["days"], vs=q["vs"])
            )
        except live.NoPriceData as exc:
            raise _unavailable(exc) from exc


class QuickPricesApi(_CachedReadView):
    @extend_schema(
        tags=["prices"],
        summary="Emergency price read from the cache only (never the database or a provider)",
        parameters=[QuickPricesQuerySerializer],
        responses={200: PricesSerializer, 503: _503},
    )
    def get(self, request: Request) -> Response:
        q = query_data(QuickPricesQuerySerializer, request)
        try:
            return Response(live.quick_prices(ids=q.get("ids"), limit=q["limit"], rate=q["vs"]))
        except live.NoPriceData as exc:
            raise _unavailable(exc) from exc


class QuickMarketApi(_CachedReadView):
    @extend_schema(
        tags=["prices"],
        summary="Emergency market read from the cache only",
        parameters=[QuickMarketQuerySerializer],
        responses={200: MarketSerializer, 503: _503},
    )
    def get(self, request: Request) -> Response:
        q = query_data(QuickMarketQuerySerializer, request)
        try:
            return Response(live.quick_market(limit=q["limit"], rate=q["vs"]))
        except live.NoPriceData as exc:
            raise _unavailable(exc) from exc
