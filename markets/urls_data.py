"""Routes of stored data (see markets/urls.py). Fixed paths come before ``<id>``."""

from django.urls import path

from . import apis

urlpatterns = [
    path("cryptocurrencies/", apis.AssetListApi.as_view(), name="asset-list"),
    path("cryptocurrencies/sync", apis.SyncApi.as_view(), name="asset-sync"),
    path("cryptocurrencies/import", apis.ImportApi.as_view(), name="asset-import"),
    path("cryptocurrencies/top/<str:category>", apis.TopAssetsApi.as_view(), name="asset-top"),
    path("cryptocurrencies/<str:id>", apis.AssetDetailApi.as_view(), name="asset-detail"),
    path("cryptocurrencies/<str:id>/history", apis.AssetHistoryApi.as_view(), name="asset-history"),
    path(
        "cryptocurrencies/<str:id>/coverage", apis.AssetCoverageApi.as_view(), name="asset-coverage"
    ),
    path("market/global", apis.MarketGlobalApi.as_view(), name="market-global"),
    path("market/trending", apis.MarketTrendingApi.as_view(), name="market-trending"),
    path("market/data", apis.MarketDataApi.as_view(), name="market-data"),
    path("etl/jobs", apis.EtlJobListApi.as_view(), name="etl-jobs"),
    path("etl/jobs/<int:job_id>", apis.EtlJobDetailApi.as_view(), name="etl-job"),
    path("etl/jobs/<int:job_id>/run", apis.EtlJobRunApi.as_view(), name="etl-job-run"),
    path("etl/jobs/<int:job_id>/enable", apis.EtlJobEnableApi.as_view(), name="etl-job-enable"),
    path("etl/jobs/<int:job_id>/disable", apis.EtlJobDisableApi.as_view(), name="etl-job-disable"),
    path("etl/status", apis.EtlStatusApi.as_view(), name="etl-status"),
]
