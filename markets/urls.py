"""API routes of `markets`, mounted under `/api/v1/` by `config.urls`. Fixed paths come before
``<id>``."""

from django.urls import path

from .apis import assets, currency, etl, ingestion, market, prices, providers

# Live first: the cache-first price reads are the hottest routes, and the resolver tries
# patterns in order (no two routes share a path).
urlpatterns = [
    path("prices", prices.PricesApi.as_view(), name="prices"),
    path("currencies", currency.CurrenciesApi.as_view(), name="currencies"),
    path("prices/market", prices.PricesMarketApi.as_view(), name="prices-market"),
    path("prices/history/<str:id>", prices.PricesHistoryApi.as_view(), name="prices-history"),
    path("quick/prices", prices.QuickPricesApi.as_view(), name="quick-prices"),
    path("quick/market", prices.QuickMarketApi.as_view(), name="quick-market"),
    path("rate-limit/status", providers.RateLimitStatusApi.as_view(), name="rate-limit-status"),
    path(
        "rate-limit/status/<str:provider>",
        providers.RateLimitProviderStatusApi.as_view(),
        name="rate-limit-provider-status",
    ),
    path(
        "rate-limit/recommendations",
        providers.RateLimitRecommendationsApi.as_view(),
        name="rate-limit-recommendations",
    ),
    path("rate-limit/reset-stats", providers.RateLimitResetApi.as_view(), name="rate-limit-reset"),
    path(
        "rate-limit/batching/stats",
        providers.BatchingStatsApi.as_view(),
        name="rate-limit-batching-stats",
    ),
    path(
        "data-sources/health",
        providers.DataSourcesHealthApi.as_view(),
        name="data-sources-health",
    ),
    path(
        "data-sources/health/<str:provider>",
        providers.DataSourceHealthApi.as_view(),
        name="data-source-health",
    ),
    # stored data
    path("cryptocurrencies/", assets.AssetListApi.as_view(), name="asset-list"),
    path("cryptocurrencies/sync", ingestion.SyncApi.as_view(), name="asset-sync"),
    path("cryptocurrencies/import", ingestion.ImportApi.as_view(), name="asset-import"),
    path("cryptocurrencies/top/<str:category>", assets.TopAssetsApi.as_view(), name="asset-top"),
    path("cryptocurrencies/<str:id>", assets.AssetDetailApi.as_view(), name="asset-detail"),
    path(
        "cryptocurrencies/<str:id>/history", assets.AssetHistoryApi.as_view(), name="asset-history"
    ),
    path(
        "cryptocurrencies/<str:id>/coverage",
        assets.AssetCoverageApi.as_view(),
        name="asset-coverage",
    ),
    path("market/global", market.MarketGlobalApi.as_view(), name="market-global"),
    path("market/trending", market.MarketTrendingApi.as_view(), name="market-trending"),
    path("market/data", market.MarketDataApi.as_view(), name="market-data"),
    path("etl/jobs", etl.EtlJobListApi.as_view(), name="etl-jobs"),
    path("etl/jobs/<int:job_id>", etl.EtlJobDetailApi.as_view(), name="etl-job"),
    path("etl/jobs/<int:job_id>/run", etl.EtlJobRunApi.as_view(), name="etl-job-run"),
    path("etl/jobs/<int:job_id>/enable", etl.EtlJobEnableApi.as_view(), name="etl-job-enable"),
    path("etl/jobs/<int:job_id>/disable", etl.EtlJobDisableApi.as_view(), name="etl-job-disable"),
    path("etl/status", etl.EtlStatusApi.as_view(), name="etl-status"),
]
