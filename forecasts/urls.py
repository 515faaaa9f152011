"""API routes of `forecasts`, mounted under `/api/v1/` by `config.urls`."""

urlpatterns: list = []
