"""API routes of `accounts`, mounted under `/api/v1/` by `config.urls`."""

urlpatterns: list = []
