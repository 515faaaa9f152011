"""Provider operations: rate-limit figures and advice, resetting them (staff), request
batching figures, live data-source health."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
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
from core.errors import (
    REPORT_RETRY_AFTER_SECONDS,
    envelope_body,
)
from core.health import probe_concurrently
from core.permissions import IsStaff
from markets import batching, live, providers
from markets.serializers.providers import (
    DataSourcesDownSerializer,
    DataSourcesHealthSerializer,
    ProviderQuerySerializer,
    ProviderStatusSerializer,
    RateLimitStatusSerializer,
    RecommendationsSerializer,
    ResetStatsSerializer,
)

from . import query_data

PROVIDER_PARAM = OpenApiParameter(
    "provider",
    str,
    OpenApiParameter.PATH,
    enum=list(providers.ALL_PROVIDERS),
    description="Provider name",
)


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
        name = query_data(ProviderQuerySerializer, request).get("provider")
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
