"""API routes of `alerts`, mounted under `/api/v1/` by `config.urls`."""

from django.urls import path

from . import apis

urlpatterns = [
    path("watchlist", apis.WatchlistListApi.as_view(), name="watchlist-list"),
    path("watchlist/<int:pk>", apis.WatchlistDetailApi.as_view(), name="watchlist-detail"),
    path(
        "watchlist/crypto/<str:symbol>",
        apis.WatchlistRemoveCoinApi.as_view(),
        name="watchlist-remove-coin",
    ),
    path("alerts", apis.AlertListApi.as_view(), name="alert-list"),
    path("alerts/<int:pk>", apis.AlertDetailApi.as_view(), name="alert-detail"),
    path("alerts/<int:pk>/events", apis.AlertEventsApi.as_view(), name="alert-events"),
    path("alerts/<int:pk>/test", apis.AlertTestApi.as_view(), name="alert-test"),
    path("alerts/crypto/<str:symbol>", apis.AlertsByCoinApi.as_view(), name="alert-by-coin"),
    path("anomalies", apis.AnomalyListApi.as_view(), name="anomaly-list"),
    path("notifications", apis.NotificationListApi.as_view(), name="notification-list"),
    path(
        "notifications/unread-count",
        apis.NotificationUnreadCountApi.as_view(),
        name="notification-unread-count",
    ),
    path(
        "notifications/read-all",
        apis.NotificationReadAllApi.as_view(),
        name="notification-read-all",
    ),
    path(
        "notifications/preferences",
        apis.PreferenceApi.as_view(),
        name="notification-preferences",
    ),
    path("notifications/webhooks", apis.WebhookListApi.as_view(), name="notification-webhook-list"),
    path(
        "notifications/webhooks/<int:pk>",
        apis.WebhookDetailApi.as_view(),
        name="notification-webhook-detail",
    ),
    path(
        "notifications/webhooks/<int:pk>/deliveries",
        apis.WebhookDeliveriesApi.as_view(),
        name="notification-webhook-deliveries",
    ),
    path(
        "notifications/<int:pk>/read",
        apis.NotificationReadApi.as_view(),
        name="notification-read",
    ),
]
