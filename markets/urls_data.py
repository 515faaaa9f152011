"""Routes: see markets/urls.py."""

urlpatterns: list = []
