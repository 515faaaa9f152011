"""Dashboard pages (HTML); the API lives under /api/v1/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.markets_page, name="dashboard"),
    path("coins/<slug:asset_id>", views.coin_page, name="coin"),
]
