"""DRF views of live prices (cache-first) and provider operations.

The price reads are public, cache-first and skip authentication and DRF throttling: a hit is a
dict lookup returning pre-rendered bytes, and a per-request Redis throttle would halve their
throughput (rate-limit these at the reverse proxy). Everything else uses the defaults.
"""

from __future__ import annotations

import os
import re
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts_services
from core.errors import REPORT_RETRY_AFTER_SECONDS, ServiceUnavailable, envelope_body
from core.health import probe_concurrently
from core.permissions import IsStaff

from . import batching, live, providers, selectors
from .serializers_live import (
    MAX_IDS,
    SLUG,
    DataSourcesDownSerializer,
    DataSourcesHealthSerializer,
    HistoryQuerySerializer,
    MarketQuerySerializer,
    MarketSerializer,
    PriceHistorySerializer,
    PricesQuerySerializer,
    PricesSerializer,
    ProviderQuerySerializer,
    ProviderStatusSerializer,
    QuickMarketQuerySerializer,
    QuickPricesQuerySerializer,
    RateLimitStatusSerializer,
    RecommendationsSerializer,
    ResetStatsSerializer,
)

_503 = OpenApiResponse(description="No data at all: error envelope with Retry-After")
PROVIDER_PARAM = OpenApiParameter(
    "provider",
    str,
    OpenApiParameter.PATH,
    enum=list(providers.ALL_PROVIDERS),
    description="Provider name",
)


def _query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


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
        q = _query(PricesQuerySerializer, request)
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
        q = _query(MarketQuerySerializer, request)
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
        q = _query(HistoryQuerySerializer, request)
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
        q = _query(QuickPricesQuerySerializer, request)
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
        q = _query(QuickMarketQuerySerializer, request)
        try:
            return Response(live.quick_market(limit=q["limit"], rate=q["vs"]))
        except live.NoPriceData as exc:
            raise _unavailable(exc) from exc


# --- provider operations -------------------------------------------------------------------
class RateLimitStatusApi(APIView):
    @extend_schema(
        tags=["ops"],
        summary="Per-provider calls, 429s, failures, budget left, breaker state, last success",
        responses=RateLimitStatusSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(
            {
                "providers": providers.rate_limit_status_all(),
                "order": providers.quote_provider_order(),
            }
        )


class RateLimitProviderStatusApi(APIView):
    @extend_schema(
        tags=["ops"],
        summary="Figures of one provider",
        operation_id="rate_limit_provider_status",
        parameters=[PROVIDER_PARAM],
        responses={
            200: ProviderStatusSerializer,
            404: OpenApiResponse(description="Unknown provider"),
        },
    )
    def get(self, request: Request, provider: str) -> Response:
        try:
            return Response(providers.rate_limit_status(provider))
        except KeyError as exc:
            raise NotFound(f"Unknown provider {provider!r}.") from exc


class RateLimitRecommendationsApi(APIView):
    @extend_schema(
        tags=["ops"],
        summary="Advice derived from the provider figures",
        responses=RecommendationsSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response({"recommendations": providers.rate_limit_recommendations()})


class RateLimitResetApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        tags=["ops"],
        summary="Zero the figures, close breakers, refill budgets (staff; all or ?provider=)",
        parameters=[ProviderQuerySerializer],
        request=None,
        responses={200: ResetStatsSerializer},
    )
    def post(self, request: Request) -> Response:
        name = _query(ProviderQuerySerializer, request).get("provider")
        if name is not None and name not in providers.HTTP_PROVIDERS:
            raise serializers.ValidationError(
                {"provider": [f"Choose from {', '.join(providers.HTTP_PROVIDERS)}."]}
            )
        reset = providers.reset_stats(name)
        accounts_services.audit_record(
            action="ops.provider_stats_reset",
            actor=request.user,  # type: ignore[arg-type]
            request=request._request,
            data={"provider": name or "all"},
        )
        return Response({"reset": reset})


class BatchingStatsApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        tags=["ops"],
        summary="Request batching of live price misses: requests vs store calls (this process)",
        responses=inline_serializer(
            "BatchingStats",
            {
                "batchers": serializers.ListField(child=serializers.DictField()),
                "pid": serializers.IntegerField(),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        return Response({"batchers": batching.batching_stats(), "pid": os.getpid()})


def _probe_cached(name: str) -> dict[str, Any]:
    """Probes cost outbound budget: one real probe per provider per 30 s, shared."""
    cache = live.price_cache()
    key = f"probe:{name}"
    read = cache.get(key)
    if read.hit and not read.stale:
        return read.value
    result = providers.probe(name)
    cache.set(key, result, ttl=30, l1_ttl=5)
    return result


def _probes_down(results: list[dict[str, Any]], detail: str) -> Response:
    """503 in the error envelope, with the probe report beside it and ``Retry-After`` (the
    longest wait a provider asked for, else the health reports' default)."""
    waits = [int(r["retry_after"]) for r in results if r.get("retry_after")]
    wait = max([*waits, 1]) if waits else REPORT_RETRY_AFTER_SECONDS
    body = {
        **envelope_body(status_code=503, code="provider_unavailable", detail=detail),
        "providers": results,
        "checked_at": timezone.now(),
    }
    return Response(body, status=503, headers={"Retry-After": str(wait)})


class DataSourcesHealthApi(APIView):
    @extend_schema(
        tags=["ops"],
        summary="Live probe of every provider; 503 when no quote provider answers",
        responses={200: DataSourcesHealthSerializer, 503: DataSourcesDownSerializer},
    )
    def get(self, request: Request) -> Response:
        # Concurrently, a short timeout each (one after another took 6 s offline).
        answers = probe_concurrently(
            {name: (lambda name=name: _probe_cached(name)) for name in providers.ALL_PROVIDERS},
            timeout=settings.HEALTH_API_TIMEOUT_SECONDS,
        )
        results = [{"provider": name, "configured": True, **r} for name, r in answers.items()]
        order = set(providers.quote_provider_order())
        usable = [r for r in results if r["ok"] and r["provider"] in order]
        dead = [r for r in results if r["configured"] and not r["ok"]]
        status = "down" if not usable else ("degraded" if dead else "ok")
        if not usable:
            return _probes_down(results, "No quote provider answers.")
        return Response({"status": status, "providers": results, "checked_at": timezone.now()})


class DataSourceHealthApi(APIView):
    @extend_schema(
        tags=["ops"],
        summary="Live probe of one provider; 503 when it is dead or not configured",
        operation_id="data_source_health",
        parameters=[PROVIDER_PARAM],
        responses={
            200: DataSourcesHealthSerializer,
            503: DataSourcesDownSerializer,
            404: OpenApiResponse(description="Unknown provider"),
        },
    )
    def get(self, request: Request, provider: str) -> Response:
        if provider not in providers.ALL_PROVIDERS:
            raise NotFound(f"Unknown provider {provider!r}.")
        result = _probe_cached(provider)
        if not result["ok"]:
            return _probes_down([result], f"{provider} does not answer.")
        return Response({"status": "ok", "providers": [result], "checked_at": timezone.now()})
