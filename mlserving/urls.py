"""API routes of `mlserving`, mounted under `/api/v1/` by `config.urls`."""

urlpatterns: list = []
