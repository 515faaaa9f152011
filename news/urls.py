"""API routes of `news`, mounted under `/api/v1/` by `config.urls`."""

urlpatterns: list = []
