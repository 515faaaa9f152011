"""django-allauth adapters: Google goes through our callback URL and our linking policy, and
the redirect flow ends with a one-time code (exchanged by POST for our JWT pair) instead of
tokens in a URL."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.utils import build_absolute_uri
from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse

from core.errors import envelope

from .models import User
from .services.audit import audit_record
from .services.codes import oauth_handoff_issue
from .services.google import GoogleSignInRefused, google_id_token_verify, google_sign_in
from .services.roles import user_role_set

# Marks a redirect flow started by GET /api/v1/auth/oauth/google (kept in allauth's state);
# the value is the SPA's PKCE code_challenge that the hand-off code is bound to.
HANDOFF_STATE_KEY = "cc_handoff"


class GoogleRedirectAdapter(GoogleOAuth2Adapter):
    """Endpoints from settings (read per request, so tests can point them at a loopback stub),
    our callback URL, and the ID token's signature always checked against the JWKS."""

    @property  # type: ignore[override]
    def access_token_url(self) -> str:
        return settings.GOOGLE_OAUTH_TOKEN_URL

    @property  # type: ignore[override]
    def authorize_url(self) -> str:
        return settings.GOOGLE_OAUTH_AUTHORIZE_URL

    def get_callback_url(self, request: HttpRequest, app: Any) -> str:
        return build_absolute_uri(request, reverse("accounts:oauth-google-callback"))

    def _decode_id_token(self, app: Any, id_token: str) -> dict[str, Any]:
        try:
            return google_id_token_verify(credential=id_token, audiences=[app.client_id])
        except GoogleSignInRefused as exc:
            raise OAuth2Error(exc.code) from exc


def spa_redirect(**params: str) -> HttpResponseRedirect:
    url = settings.OAUTH_SPA_REDIRECT_URL
    separator = "&" if "?" in url else "?"
    return HttpResponseRedirect(f"{url}{separator}{urlencode(params)}")


class AccountAdapter(DefaultAccountAdapter):
    def get_login_stages(self) -> list[str]:
        # After allauth's own stages (e-mail verification, ...): a 2FA user gives a code.
        return [*super().get_login_stages(), "accounts.stages.TotpStage"]

    def login(self, request: HttpRequest, user: Any) -> None:
        super().login(request, user)
        audit_record(action="signin", user=user, request=request, data={"method": "browser"})

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            user_role_set(user=user, role="user")
        return user

    def confirm_email(self, request: HttpRequest, email_address: Any) -> bool:
        confirmed = super().confirm_email(request, email_address)
        if confirmed:
            User.objects.filter(pk=email_address.user_id, email__iexact=email_address.email).update(
                email_verified=True
            )
        return confirmed


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request: HttpRequest, provider: str, client_id: str | None = None):  # type: ignore[no-untyped-def]
        instance = super().get_provider(request, provider, client_id=client_id)
        if instance.id == "google":
            instance.oauth2_adapter_class = GoogleRedirectAdapter
        return instance

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        if sociallogin.account.provider != "google":
            return
        try:
            user = google_sign_in(claims=dict(sociallogin.account.extra_data))
        except GoogleSignInRefused as exc:
            raise ImmediateHttpResponse(
                envelope(status_code=exc.status, code=exc.code, detail=exc.detail)
            ) from exc
        challenge = (sociallogin.state or {}).get(HANDOFF_STATE_KEY)
        if challenge:
            code = oauth_handoff_issue(user=user, challenge=challenge)
            raise ImmediateHttpResponse(spa_redirect(code=code))
        # allauth's own browser login: let it log in the (now linked) user with a session.
        # allauth looked the account up just before calling us; a returning user is already
        # found (a second lookup would trip allauth's assertion: a 500 for every return visit).
        if not sociallogin.is_existing:
            sociallogin.lookup()

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: Any = None,
        exception: Any = None,
        extra_context: Any = None,
    ) -> None:
        extra_context = extra_context or {}
        if "state_id" in extra_context and extra_context.get("state") is None:
            code, detail = "state_mismatch", "OAuth state is missing, expired or does not match."
        elif error == AuthError.CANCELLED:
            code, detail = "oauth_cancelled", "Google sign-in was cancelled."
        else:
            code, detail = "oauth_failed", "Google sign-in failed."
        raise ImmediateHttpResponse(envelope(status_code=400, code=code, detail=detail))
