"""API routes of `accounts`, mounted at `/api/v1/auth/` by `config.urls`."""

from django.urls import path

from . import apis

app_name = "accounts"

urlpatterns = [
    path("signup", apis.SignupApi.as_view(), name="signup"),
    path("signin", apis.SigninApi.as_view(), name="signin"),
    path("signin/mfa", apis.SigninMfaApi.as_view(), name="signin-mfa"),
    path("mfa/totp", apis.TotpApi.as_view(), name="mfa-totp"),
    path("mfa/totp/confirm", apis.TotpConfirmApi.as_view(), name="mfa-totp-confirm"),
    path("mfa/recovery-codes", apis.RecoveryCodesApi.as_view(), name="mfa-recovery-codes"),
    path("refresh", apis.RefreshApi.as_view(), name="refresh"),
    path("logout", apis.LogoutApi.as_view(), name="logout"),
    path("verify-token", apis.VerifyTokenApi.as_view(), name="verify-token"),
    path("me", apis.MeApi.as_view(), name="me"),
    path("me/password", apis.PasswordChangeApi.as_view(), name="me-password"),
    path("me/audit", apis.MeAuditApi.as_view(), name="me-audit"),
    path("me/export", apis.MeExportApi.as_view(), name="me-export"),
    path("me/export/<uuid:export_id>", apis.MeExportDetailApi.as_view(), name="me-export-detail"),
    path("me/export/<uuid:export_id>/file", apis.MeExportFileApi.as_view(), name="me-export-file"),
    path("password-reset", apis.PasswordResetApi.as_view(), name="password-reset"),
    path(
        "password-reset/confirm",
        apis.PasswordResetConfirmApi.as_view(),
        name="password-reset-confirm",
    ),
    path("email/verify", apis.EmailVerifyApi.as_view(), name="email-verify"),
    path("email/verify/confirm", apis.EmailVerifyConfirmApi.as_view(), name="email-verify-confirm"),
    path("oauth/google", apis.GoogleStartApi.as_view(), name="oauth-google"),
    path("oauth/google/callback", apis.GoogleCallbackApi.as_view(), name="oauth-google-callback"),
    path("oauth/google/exchange", apis.GoogleExchangeApi.as_view(), name="oauth-google-exchange"),
    path("oauth/google/mobile", apis.GoogleMobileApi.as_view(), name="oauth-google-mobile"),
    path("api-keys", apis.ApiKeyListCreateApi.as_view(), name="api-keys"),
    path("api-keys/<uuid:key_id>", apis.ApiKeyDeleteApi.as_view(), name="api-key-detail"),
    path("ws-ticket", apis.WsTicketApi.as_view(), name="ws-ticket"),
]
