"""WebSocket routes, mounted by ``config.asgi`` (unknown paths close with 4404, never a 500)."""

from django.urls import re_path

from .consumers import NotFoundConsumer, StreamConsumer

websocket_urlpatterns: list = [
    re_path(r"^api/v1/stream/ws/?$", StreamConsumer.as_asgi()),
    re_path(r"", NotFoundConsumer.as_asgi()),
]
