"""Operator routes of core, mounted under ``/api/v1/`` (staff only)."""

from django.urls import path

from . import apis_ops as v

urlpatterns = [
    path("cache/status", v.CacheStatusApi.as_view(), name="cache-status"),
    path("cache/stats", v.CacheStatsApi.as_view(), name="cache-stats"),
    path("cache/clear", v.CacheClearApi.as_view(), name="cache-clear"),
    path("cache/smart", v.CacheSmartApi.as_view(), name="cache-smart"),
    path("admin/cache/refresh", v.CacheRefreshApi.as_view(), name="cache-refresh"),
    path("admin/cache/invalidate", v.CacheInvalidateApi.as_view(), name="cache-invalidate"),
    path("db/status", v.DbStatusApi.as_view(), name="db-status"),
    path("etl/setup-default", v.EtlSetupDefaultApi.as_view(), name="etl-setup-default"),
]
