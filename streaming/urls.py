"""HTTP routes of `streaming`, mounted under `/api/v1/stream/` (the WebSocket is in routing)."""

from django.urls import path

from . import apis, sse

urlpatterns = [
    path("sse", sse.sse_view, name="stream-sse"),
    path("snapshot", apis.SnapshotApi.as_view(), name="stream-snapshot"),
]
