"""Dashboard pages (HTML); the API lives under /api/v1/."""

from django.urls import path

from . import views, views_account, views_alerts, views_forecasts, views_news

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

urlpatterns += [
    path("signin", views_account.signin_page, name="signin-page"),
    path("signin/code", views_account.signin_code_page, name="signin-code-page"),
    path("signup", views_account.signup_page, name="signup-page"),
    path("signout", views_account.signout, name="signout"),
    path("password-reset", views_account.password_reset_page, name="password-reset-page"),
    path("reset-password", views_account.reset_password_page, name="reset-password-page"),
    path("verify-email", views_account.verify_email_page, name="verify-email-page"),
    path("account", views_account.account_page, name="account-page"),
    path("account/profile", views_account.account_profile, name="account-profile"),
    path("account/password", views_account.account_password, name="account-password"),
    path("account/verify-email", views_account.account_verify_email, name="account-verify-email"),
    path("account/api-keys", views_account.api_key_create, name="account-api-key-create"),
    path(
        "account/api-keys/<uuid:key_id>/revoke",
        views_account.api_key_revoke,
        name="account-api-key-revoke",
    ),
    path("account/2fa/enrol", views_account.totp_enrol, name="account-2fa-enrol"),
    path("account/2fa/confirm", views_account.totp_confirm, name="account-2fa-confirm"),
    path("account/2fa/disable", views_account.totp_disable, name="account-2fa-disable"),
    path("account/2fa/recovery-codes", views_account.recovery_codes, name="account-2fa-recovery"),
    path("account/google/unlink", views_account.google_unlink, name="account-google-unlink"),
    path("account/delete", views_account.account_delete, name="account-delete"),
]
