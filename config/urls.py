"""Top-level routes: dashboard, admin, API v1, schema/docs, health, metrics."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts import stages as accounts_stages
from core import apis_ops as core_ops
from core import views as core_views

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("admin/", include("accounts.admin_urls")),
    path("", include("markets.urls")),
    path("", include("news.urls")),
    path("", include("forecasts.urls")),
    path("", include("alerts.urls")),
    path("", include("mlserving.urls")),
    path("stream/", include("streaming.urls")),
    path("", include("core.urls")),  # operator endpoints (cache, db, schedule)
]

urlpatterns = [
    # The API first: Django tries patterns in order, and each request for /api/v1/ otherwise
    # walked the dashboard's ~36 page patterns before reaching it (no page path starts so).
    path("api/v1/", include(api_v1)),
    path("", include("dashboard.urls")),
    path("admin/", admin.site.urls),
    path("accounts/2fa/", accounts_stages.mfa_authenticate, name="accounts_mfa_authenticate"),
    path("accounts/", include("allauth.urls")),
    path("coingecko/api/v3/", include("markets.coingecko_api.urls")),
    path("api/schema/", core_views.SchemaView.as_view(), name="schema"),
    # The split view serves its init script as a separate request (/docs?script=): strict CSP.
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", core_views.RedocView.as_view(url_name="schema"), name="redoc"),
    path("health", core_views.HealthView.as_view(), name="health"),
    path("health/quick", core_views.HealthQuickView.as_view(), name="health-quick"),
    path("health/live", core_views.HealthLiveView.as_view(), name="health-live"),
    path("health/ready", core_views.HealthReadyView.as_view(), name="health-ready"),
    path("health/db", core_views.HealthDbView.as_view(), name="health-db"),
    path("health/cache", core_views.HealthCacheView.as_view(), name="health-cache"),
    path("health/detailed", core_views.HealthDetailedView.as_view(), name="health-detailed"),
    path("health/api", core_ops.HealthApiView.as_view(), name="health-api"),
    path("health/trends", core_ops.HealthTrendsView.as_view(), name="health-trends"),
    path(
        "health/components/<str:name>",
        core_ops.HealthComponentView.as_view(),
        name="health-component",
    ),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("metrics", core_views.metrics, name="prometheus-metrics"),
    # Anything else under /api/ is a 404 in the envelope, whatever DEBUG says.
    re_path(r"^api/", core_views.api_not_found),
]

handler400 = "core.views.handler400"
handler403 = "core.views.handler403"
handler404 = "core.views.handler404"
handler500 = "core.views.handler500"
