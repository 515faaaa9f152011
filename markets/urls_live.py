"""Routes of live prices and provider operations (see markets/urls.py)."""

from django.urls import path

from . import apis_live as v
from .apis_currency import CurrenciesApi

urlpatterns = [
    path("prices", v.PricesApi.as_view(), name="prices"),
    path("currencies", CurrenciesApi.as_view(), name="currencies"),
    path("prices/market", v.PricesMarketApi.as_view(), name="prices-market"),
    path("prices/history/<str:id>", v.PricesHistoryApi.as_view(), name="prices-history"),
    path("quick/prices", v.QuickPricesApi.as_view(), name="quick-prices"),
    path("quick/market", v.QuickMarketApi.as_view(), name="quick-market"),
    path("rate-limit/status", v.RateLimitStatusApi.as_view(), name="rate-limit-status"),
    path(
        "rate-limit/status/<str:provider>",
        v.RateLimitProviderStatusApi.as_view(),
        name="rate-limit-provider-status",
    ),
    path(
        "rate-limit/recommendations",
        v.RateLimitRecommendationsApi.as_view(),
        name="rate-limit-recommendations",
    ),
    path("rate-limit/reset-stats", v.RateLimitResetApi.as_view(), name="rate-limit-reset"),
    path(
        "rate-limit/batching/stats", v.BatchingStatsApi.as_view(), name="rate-limit-batching-stats"
    ),
    path("data-sources/health", v.DataSourcesHealthApi.as_view(), name="data-sources-health"),
    path(
        "data-sources/health/<str:provider>",
        v.DataSourceHealthApi.as_view(),
        name="data-source-health",
    ),
]
