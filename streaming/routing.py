"""WebSocket routes, mounted by ``config.asgi``."""

websocket_urlpatterns: list = []
