"""API routes of `alerts`, mounted under `/api/v1/` by `config.urls`."""

urlpatterns: list = []
