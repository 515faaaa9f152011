"""HTTP routes of `streaming`, mounted under `/api/v1/stream/` (the WebSocket is in routing)."""

from django.urls import path

from . import apis, sse

urlpatterns = [
    path("sse", sse.wsgi_fallback, name="stream-sse"),  # ASGI routes it to SseConsumer
    path("snapshot", apis.SnapshotApi.as_view(), name="stream-snapshot"),
]
