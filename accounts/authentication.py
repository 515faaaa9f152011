"""DRF authentication classes (listed in ``REST_FRAMEWORK`` by the settings)."""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework_simplejwt import authentication as jwt_authentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from .models import ApiKey, TokenFamily, User
from .services.api_keys import api_key_authenticate
from .services.tokens import ENROL_SCOPE, FAMILY_CLAIM, SCOPE_CLAIM

#: the only routes an enrolment-scoped token opens (``auth/mfa/totp`` and its confirm)
ENROL_URL_NAMES = frozenset({"mfa-totp", "mfa-totp-confirm"})


class JWTAuthentication(jwt_authentication.JWTAuthentication):
    """simplejwt's access-token check plus, in the same single query, the user's ``is_active``
    and the token family's revocation: logout, reuse detection, password change and
    deactivation take effect on the very next request, not when the access token expires."""

    def authenticate(self, request: Request) -> tuple[User, Token] | None:
        result = super().authenticate(request)
        if result is not None and result[1].get(SCOPE_CLAIM) == ENROL_SCOPE:
            match = getattr(request._request, "resolver_match", None)
            if match is None or match.url_name not in ENROL_URL_NAMES:
                raise exceptions.PermissionDenied(
                    "This token only enrols two-factor authentication (required for staff): "
                    "POST auth/mfa/totp, confirm with auth/mfa/totp/confirm, then sign in "
                    "again with the code.",
                    code="mfa_enrolment_required",
                )
        return result  # type: ignore[return-value]

    def get_validated_token(self, raw_token: bytes) -> Token:
        # simplejwt lists one message per token class tried, which the envelope turns into
        # five ``messages.N.*`` errors: a client needs one clear ``token_not_valid``.
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken as exc:
            raise exceptions.AuthenticationFailed(
                "Token is invalid or expired.", code="token_not_valid"
            ) from exc

    def get_user(self, validated_token: Token) -> User:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
        family_id = validated_token.get(FAMILY_CLAIM)
        if not family_id:
            raise InvalidToken("Token has no family; sign in again.")
        user = (
            User.objects.filter(**{api_settings.USER_ID_FIELD: user_id})
            .annotate(
                family_live=Exists(
                    TokenFamily.objects.filter(
                        pk=family_id, user=OuterRef("pk"), revoked_at__isnull=True
                    )
                )
            )
            .first()
        )
        if user is None:
            raise exceptions.AuthenticationFailed("User not found.", code="user_not_found")
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive.", code="user_inactive")
        if not user.family_live:
            raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return user


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Api-Key cc_...`` for scripts; ``request.auth`` is the ``ApiKey``."""

    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode("latin-1").lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid Api-Key header.", code="invalid_api_key")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(
                "Invalid Api-Key header.", code="invalid_api_key"
            ) from exc
        result = api_key_authenticate(raw=raw)
        if result is None:
            raise exceptions.AuthenticationFailed(
                "Invalid, expired or revoked API key.", code="invalid_api_key"
            )
        return result

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
