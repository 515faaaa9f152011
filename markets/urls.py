"""API routes of `markets`, mounted under `/api/v1/` by `config.urls`."""

urlpatterns: list = []
