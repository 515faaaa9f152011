"""API routes of `forecasts`, mounted under `/api/v1/` by `config.urls`."""

from django.urls import path

from forecasts import apis

urlpatterns = [
    path("forecasts", apis.ForecastListApi.as_view(), name="forecasts-list"),
    path("forecasts/models", apis.ForecastModelsApi.as_view(), name="forecasts-models"),
    path("forecasts/training", apis.TrainingRunApi.as_view(), name="forecasts-training"),
    path(
        "forecasts/performance", apis.ForecastPerformanceApi.as_view(), name="forecasts-performance"
    ),
]
