"""Operator endpoints under ``/api/v1/`` (staff only: 401 anonymous, 403 users) and the
health history under ``/health/*``. Thin: parse, authorise, call one selector or service."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import health, selectors, services
from .errors import report_response
from .permissions import IsStaff
from .schedules import setup_schedule
from .signals import staff_action_send
from .views import _OpsView

_free = inline_serializer("OpsFigures", {"as_of": serializers.DateTimeField(required=False)})


class _StaffView(APIView):
    permission_classes = [IsStaff]

    def finalize_response(self, request, response, *args, **kwargs):  # type: ignore[override]
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    s = serializer_class(data=data)
    s.is_valid(raise_exception=True)
    return s.validated_data


# --- cache --------------------------------------------------------------------------------


class CacheStatusApi(_StaffView):
    @extend_schema(
        tags=["ops"],
        summary="Cache backend, tiers, hit/miss/evictions per tier, keys by namespace, memory",
        responses=_free,
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.cache_status())


class CacheStatsApi(_StaffView):
    @extend_schema(
        tags=["ops"], summary="Hit/miss/eviction figures per cache tier", responses=_free
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.cache_stats())


class CacheClearSerializer(serializers.Serializer):
    namespace = serializers.CharField(
        max_length=40, help_text="A namespace from cache/status (e.g. 'live', 'markets') or 'all'"
    )
    confirm = serializers.BooleanField(help_text="Must be true: clearing cannot be undone")

    def validate_namespace(self, value: str) -> str:
        value = value.strip().lower()
        if value != "all" and not services.NAMESPACE_RE.match(value):
            raise serializers.ValidationError("Use 'all' or lowercase letters and digits.")
        return value

    def validate_confirm(self, value: bool) -> bool:
        if value is not True:
            raise serializers.ValidationError("Set confirm to true to clear the cache.")
        return value


_cleared = inline_serializer(
    "CacheCleared",
    {
        "namespace": serializers.CharField(),
        "cleared": serializers.IntegerField(),
        "l1_dropped": serializers.IntegerField(),
        "scan_truncated": serializers.BooleanField(),
    },
)


class CacheClearApi(_StaffView):
    @extend_schema(
        tags=["ops"],
        summary="Delete the cache keys of one namespace (or all); answers how many",
        request=CacheClearSerializer,
        responses={200: _cleared},
    )
    def post(self, request: Request) -> Response:
        data = _valid(CacheClearSerializer, request.data)
        result = services.cache_clear(namespace=data["namespace"])
        staff_action_send(
            action="ops.cache_clear",
            request=request._request,
            target_type="cache_namespace",
            target_id=result.namespace,
            data={"cleared": result.l2_deleted, "l1_dropped": result.l1_dropped},
        )
        return Response(
            {
                "namespace": result.namespace,
                "cleared": result.l2_deleted,
                "l1_dropped": result.l1_dropped,
                "scan_truncated": result.scan_truncated,
            }
        )


class CacheKeySerializer(serializers.Serializer):
    key = serializers.RegexField(
        services.KEY_RE, max_length=250, help_text="Logical cache key, e.g. markets:global:v1"
    )


class CacheInvalidateApi(_StaffView):
    def _invalidate(self, data: Any) -> Response:
        key = _valid(CacheKeySerializer, data)["key"]
        result = services.cache_invalidate(key=key)
        staff_action_send(
            action="ops.cache_invalidate",
            request=self.request._request,
            target_type="cache_key",
            target_id=key,
        )
        return Response(result)

    @extend_schema(
        tags=["ops"],
        summary="Delete one cache key (?key=) from the shared cache and this process's L1",
        parameters=[CacheKeySerializer],
        responses=_free,
        operation_id="cache_invalidate_get",
    )
    def get(self, request: Request) -> Response:
        return self._invalidate(request.query_params)

    @extend_schema(
        tags=["ops"],
        summary="Delete one cache key (?key= or a JSON body)",
        parameters=[CacheKeySerializer],
        request=CacheKeySerializer,
        responses=_free,
        operation_id="cache_invalidate_post",
    )
    def post(self, request: Request) -> Response:
        data = request.data if "key" in request.data else request.query_params
        return self._invalidate(data)


_queued = inline_serializer(
    "CacheRefreshQueued",
    {"task_id": serializers.CharField(), "warmers": serializers.ListField()},
)


class CacheRefreshApi(_StaffView):
    @extend_schema(
        tags=["ops"],
        summary="Re-warm every cache-first read now (queued as a task)",
        request=None,
        responses={202: _queued},
    )
    def post(self, request: Request) -> Response:
        task_id = services.cache_refresh_enqueue()
        staff_action_send(
            action="ops.cache_refresh",
            request=request._request,
            target_type="task",
            target_id=task_id,
        )
        return Response(
            {"task_id": task_id, "warmers": services.cache_warmers()},
            status=status.HTTP_202_ACCEPTED,
        )


class CacheSmartApi(_StaffView):
    @extend_schema(
        tags=["ops"],
        summary="Cache-first snapshots: age of each, when it is refreshed next",
        responses=_free,
    )
    def get(self, request: Request) -> Response:
        return Response({"snapshots": services.cache_snapshots(), "as_of": timezone.now()})


# --- database, schedule -------------------------------------------------------------------


class DbStatusApi(_StaffView):
    @extend_schema(
        tags=["ops"],
        summary="Engine, version, size, connections/pool, largest tables, migrations, lag",
        responses=_free,
    )
    def get(self, request: Request) -> Response:
        return Response(selectors.db_status())


class SetupDefaultSerializer(serializers.Serializer):
    reset = serializers.BooleanField(
        default=False, help_text="Rewrite existing rows from the registry (staff edits lost)"
    )


_schedule = inline_serializer(
    "ScheduleReport",
    {
        "created": serializers.ListField(child=serializers.CharField()),
        "updated": serializers.ListField(child=serializers.CharField()),
        "kept": serializers.ListField(child=serializers.CharField()),
    },
)


class EtlSetupDefaultApi(_StaffView):
    @extend_schema(
        tags=["ops"],
        summary="Create the default periodic jobs (manage.py setup_schedule as an endpoint)",
        request=SetupDefaultSerializer,
        responses={200: _schedule},
    )
    def post(self, request: Request) -> Response:
        data = _valid(SetupDefaultSerializer, request.data)
        report = setup_schedule(reset=data["reset"])
        staff_action_send(
            action="ops.schedule_setup",
            request=request._request,
            target_type="schedule",
            data={
                "reset": data["reset"],
                "created": len(report.created),
                "updated": len(report.updated),
            },
        )
        return Response({"created": report.created, "updated": report.updated, "kept": report.kept})


# --- health history -----------------------------------------------------------------------


class HealthApiView(_OpsView):
    @extend_schema(
        tags=["ops"],
        summary="External providers probed concurrently (short timeout each); 503 if none is up",
        responses={200: _free, 503: _free},
    )
    def get(self, request: Request) -> Response:
        ok, body = health.external()
        return report_response(body, ok=ok)


class TrendsQuerySerializer(serializers.Serializer):
    hours = serializers.IntegerField(min_value=1, max_value=168, default=24)


class HealthTrendsView(_OpsView):
    @extend_schema(
        tags=["ops"],
        summary="Availability and latency per component over the last N hours of samples",
        parameters=[TrendsQuerySerializer],
        responses=_free,
    )
    def get(self, request: Request) -> Response:
        hours = _valid(TrendsQuerySerializer, request.query_params)["hours"]
        return Response(selectors.health_trends(hours=hours))


class HealthComponentView(_OpsView):
    @extend_schema(
        tags=["ops"],
        summary="One component: a probe now and its recent samples (404 for an unknown name)",
        parameters=[OpenApiParameter("name", str, OpenApiParameter.PATH)],
        responses={200: _free, 404: OpenApiResponse(description="Unknown component")},
    )
    def get(self, request: Request, name: str) -> Response:
        probes = health.component_probes()
        if name not in probes:
            raise NotFound(f"Unknown component {name!r}; known: {', '.join(sorted(probes))}.")
        now = health.run_probe(probes[name])
        history = selectors.health_history(component=name, limit=60)
        trend = selectors.health_trends(hours=24)["components"].get(name)
        return Response(
            {
                "component": name,
                "ok": health.component_ok(now),
                "now": now,
                "last_24h": trend,
                "history": [{"at": s.at, "ok": s.ok, "latency_ms": s.latency_ms} for s in history],
                "sample_every_seconds": settings.HEALTH_SAMPLE_EVERY_SECONDS,
            }
        )
