"""HTTP routes of `streaming` (SSE), mounted under `/api/v1/stream/`."""

urlpatterns: list = []
