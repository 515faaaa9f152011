"""API routes of `forecasts`, mounted under `/api/v1/` by `config.urls`."""

from django.urls import path

from forecasts import apis
from forecasts import apis_features as feats

urlpatterns = [
    path("forecasts", apis.ForecastListApi.as_view(), name="forecasts-list"),
    path("forecasts/models", apis.ForecastModelsApi.as_view(), name="forecasts-models"),
    path("reports/coin/<str:id>.pdf", apis.CoinReportPdfApi.as_view(), name="report-coin-pdf"),
    path(
        "reports/backtest/<str:id>.pdf",
        apis.BacktestReportPdfApi.as_view(),
        name="report-backtest-pdf",
    ),
    path("forecasts/training", apis.TrainingRunApi.as_view(), name="forecasts-training"),
    path(
        "forecasts/performance", apis.ForecastPerformanceApi.as_view(), name="forecasts-performance"
    ),
    path("features/feature-sets", feats.FeatureSetsApi.as_view(), name="features-sets"),
    path("features/prices", feats.PricesFeaturesApi.as_view(), name="features-prices"),
    path("features/ohlcv/<str:symbol>", feats.OhlcvFeaturesApi.as_view(), name="features-ohlcv"),
    path("features/price/<str:symbol>", feats.PriceFeaturesApi.as_view(), name="features-price"),
    path(
        "features/technical/<str:symbol>",
        feats.TechnicalFeaturesApi.as_view(),
        name="features-technical",
    ),
]
