"""Dashboard pages (HTML); the API lives under /api/v1/."""

from django.urls import path

from . import views, views_alerts, views_forecasts, views_news

urlpatterns = [
    path("", views.markets_page, name="dashboard"),
    path("coins/<slug:asset_id>", views.coin_page, name="coin"),
    path("news", views_news.news_page, name="news-page"),
    path("forecasts", views_forecasts.forecasts_page, name="forecasts-page"),
    path("forecasts/plots/<str:name>", views_forecasts.backtest_plot, name="backtest-plot"),
    path("watchlists", views_alerts.watchlists_page, name="watchlists-page"),
    path("watchlists/add", views_alerts.watchlist_add, name="watchlist-add"),
    path("watchlists/<int:pk>", views_alerts.watchlist_edit, name="watchlist-edit"),
    path("watchlists/<int:pk>/delete", views_alerts.watchlist_delete, name="watchlist-delete"),
    path("watchlists/<int:pk>/remove", views_alerts.watchlist_remove, name="watchlist-remove"),
    path("alerts", views_alerts.alerts_page, name="alerts-page"),
    path("alerts/<int:pk>", views_alerts.alert_detail, name="alert-page"),
    path("alerts/<int:pk>/status", views_alerts.alert_status, name="alert-status"),
    path("alerts/<int:pk>/delete", views_alerts.alert_delete, name="alert-delete"),
    path("notifications", views_alerts.notifications_page, name="notifications-page"),
    path(
        "notifications/read-all",
        views_alerts.notifications_read_all,
        name="notifications-read-all-page",
    ),
    path(
        "notifications/<int:pk>/read",
        views_alerts.notification_read,
        name="notification-read-page",
    ),
]
