"""Operations endpoints (``/health*``) and the error handlers outside DRF."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.templatetags.static import static
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.csrf import csrf_exempt
from django_prometheus import exports
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import health
from .errors import envelope, report_response
from .permissions import IsOperator, ops_allowed


class _OpsView(APIView):
    """Probes skip auth and throttling: a load balancer must always get an answer."""

    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []

    def finalize_response(self, request, response, *args, **kwargs):  # type: ignore[override]
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


_basic = inline_serializer(
    "HealthBasic",
    {
        "status": serializers.CharField(),
        "service": serializers.CharField(),
        "version": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
    },
)
_free_form = inline_serializer("HealthComponents", {"status": serializers.CharField()})
# core.health.check_database / check_cache (``error`` names the failure when not connected).
_probe_fields: dict[str, serializers.Field] = {
    "connected": serializers.BooleanField(),
    "latency_ms": serializers.FloatField(),
    "error": serializers.CharField(required=False),
}
_db_probe = inline_serializer(
    "HealthDatabase", {**_probe_fields, "vendor": serializers.CharField()}
)
_cache_probe = inline_serializer(
    "HealthCache",
    {
        **_probe_fields,
        "backend": serializers.CharField(),
        "used_memory": serializers.CharField(required=False, allow_null=True),
    },
)


class HealthView(_OpsView):
    @extend_schema(tags=["ops"], responses=_basic, summary="Basic liveness with version")
    def get(self, request: Request) -> Response:
        return Response(health.basic())


def _quick_probe(request: HttpRequest) -> HttpResponse | None:
    """``/health/quick`` without DRF's request wrapping (the same bytes and headers)."""
    if request.method != "GET":
        return None
    response = HttpResponse(b'{"status":"ok"}', content_type="application/json")
    response["Allow"] = "GET, HEAD, OPTIONS"
    response["Cache-Control"] = "no-store"
    return response


class HealthQuickView(_OpsView):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return _quick_probe(request) or super().dispatch(request, *args, **kwargs)

    @staticmethod
    async def async_fast_path(request: HttpRequest, **kwargs: Any) -> HttpResponse | None:
        """ASGI: no thread hop (see core.middleware.async_fast_path_middleware)."""
        return _quick_probe(request)

    @extend_schema(tags=["ops"], responses=_free_form, summary="Cheapest possible probe")
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class HealthLiveView(_OpsView):
    @extend_schema(tags=["ops"], responses=_free_form, summary="200 while the process runs")
    def get(self, request: Request) -> Response:
        return Response({"status": "alive"})


class HealthDbView(_OpsView):
    @extend_schema(
        tags=["ops"],
        responses={200: _db_probe, 503: _db_probe},
        summary="Database connectivity and latency",
    )
    def get(self, request: Request) -> Response:
        result = health.check_database()
        return report_response(result, ok=result["connected"])


class HealthCacheView(_OpsView):
    @extend_schema(
        tags=["ops"],
        responses={200: _cache_probe, 503: _cache_probe},
        summary="Cache connectivity and latency",
    )
    def get(self, request: Request) -> Response:
        result = health.check_cache()
        return report_response(result, ok=bool(result.get("connected")))


class HealthReadyView(_OpsView):
    @extend_schema(
        tags=["ops"],
        responses={200: _free_form, 503: _free_form},
        summary="503 when the database is unreachable; cache outage only degrades",
    )
    def get(self, request: Request) -> Response:
        ready, body = health.readiness()
        return report_response(body, ok=ready)


class HealthDetailedView(_OpsView):
    permission_classes = [IsOperator]

    @extend_schema(
        tags=["ops"],
        responses={200: _free_form, 503: _free_form},
        summary="Every component, with latencies",
    )
    def get(self, request: Request) -> Response:
        healthy, body = health.detailed()
        return report_response(body, ok=healthy)


def metrics(request: HttpRequest) -> HttpResponse:
    """django-prometheus' export, for operators only (see ``core.permissions.ops_allowed``)."""
    if not ops_allowed(request):
        return envelope(status_code=403, code="permission_denied", detail=IsOperator.message)
    return exports.ExportToDjangoView(request)


def wants_json(request: HttpRequest) -> bool:
    path = request.path
    return path.startswith(
        ("/api/", "/health", "/metrics")
    ) or "application/json" in request.headers.get("Accept", "")


@csrf_exempt  # nothing to protect: a POST to an unknown path is a 404, not a CSRF page
def api_not_found(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    return envelope(status_code=404, code="not_found", detail=f"No API endpoint at {request.path}.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: the envelope under ``/api/``, Django's page elsewhere."""
    if wants_json(request):
        return envelope(
            status_code=403,
            code="csrf_failed",
            detail=f"CSRF check failed: {reason or 'missing or invalid token'}.",
        )
    return django_csrf_failure(request, reason=reason)


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return api_not_found(request)
    return render(request, "errors/404.html", status=404)


def handler500(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return envelope(status_code=500, code="error", detail="Server Error (500)")
    return render(request, "errors/500.html", status=500)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return envelope(status_code=403, code="permission_denied", detail="Forbidden.")
    return render(request, "errors/403.html", status=403)


def handler400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return envelope(status_code=400, code="bad_request", detail="Bad request.")
    return render(request, "errors/400.html", status=400)


# ReDoc's bundle injects its styles as <style> elements (styled-components) and runs its
# search in a blob: worker: only this page gets those two allowances on top of the site's CSP.
REDOC_CSP_UPDATE = {"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}


class RedocView(SpectacularRedocView):
    """``/redoc`` with the site's CSP relaxed just as far as ReDoc needs (nothing external)."""

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        response._csp_update = REDOC_CSP_UPDATE
        response._csp_update_ro = REDOC_CSP_UPDATE
        return response


def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico`` for browsers that ask without a ``<link rel=icon>`` (the admin, JSON
    pages): a redirect to the local SVG icon, so no page logs a 404."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


class SchemaView(SpectacularAPIView):
    """drf-spectacular's schema view, whose errors (405 on POST, ...) answer the JSON envelope
    instead of being rendered by the OpenAPI (YAML) renderer."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
