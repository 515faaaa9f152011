"""Google sign-in shared by the browser redirect flow and the mobile ID-token flow.

Verification uses django-allauth's JWT kit against Google's JWKS (signature, issuer, audience,
expiry). Linking policy (one place, both flows):

1. a Google ``sub`` already linked -> that user;
2. otherwise Google must vouch for the e-mail (``email_verified``), and an existing local
   account with that e-mail is linked only when its own e-mail is verified too — an unverified
   address (on either side) never takes over an account; such a conflict is a 409;
3. otherwise a new user is created with a verified e-mail and no usable password.
"""

from __future__ import annotations

from typing import Any

import jwt
import requests
import structlog
from allauth.account.models import EmailAddress
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from rest_framework import exceptions

from accounts.models import User

from .audit import audit_record
from .roles import user_role_set
from .users import normalize_email

security_log = structlog.get_logger("cryptocast.security")

PROVIDER = "google"
_KEPT_CLAIMS = ("sub", "email", "email_verified", "name", "picture", "hd", "locale")


class GoogleSignInRefused(Exception):
    def __init__(self, code: str, detail: str, *, status: int = 400) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.status = status


def google_audiences(*, include_mobile: bool = True) -> list[str]:
    ids = [settings.GOOGLE_OAUTH_CLIENT_ID]
    if include_mobile:
        ids.extend(settings.GOOGLE_OAUTH_MOBILE_CLIENT_IDS)
    return [i for i in ids if i]


def google_id_token_verify(*, credential: str, audiences: list[str]) -> dict[str, Any]:
    """Claims of a Google ID token whose signature (JWKS), issuer, audience and expiry check
    out; raises ``GoogleSignInRefused`` otherwise (503 when Google's keys are unreachable)."""
    if not audiences:
        raise GoogleSignInRefused(
            "google_not_configured", "Google sign-in is not configured.", status=503
        )
    if not isinstance(credential, str) or not credential or len(credential) > 8192:
        raise GoogleSignInRefused("invalid_token", "Google ID token is invalid.")
    try:
        header = jwt.get_unverified_header(credential)
    except jwt.PyJWTError as exc:
        raise GoogleSignInRefused("invalid_token", "Google ID token is invalid.") from exc
    # Google signs with RS256; never let the token pick its own algorithm.
    if header.get("alg") != "RS256" or not header.get("kid"):
        raise GoogleSignInRefused("invalid_token", "Google ID token is invalid.")
    try:
        claims = jwtkit.verify_and_decode(
            credential=credential,
            keys_url=settings.GOOGLE_OAUTH_JWKS_URL,
            issuer=list(settings.GOOGLE_OAUTH_ISSUERS),
            audience=audiences,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
    except requests.RequestException as exc:
        raise GoogleSignInRefused(
            "google_unavailable", "Google's signing keys are unreachable.", status=503
        ) from exc
    except (OAuth2Error, KeyError, ValueError, TypeError) as exc:
        raise GoogleSignInRefused("invalid_token", "Google ID token is invalid.") from exc
    if not claims.get("sub"):
        raise GoogleSignInRefused("invalid_token", "Google ID token is invalid.")
    return claims


def _verified(claims: dict[str, Any]) -> bool:
    value = claims.get("email_verified")
    return value is True or (isinstance(value, str) and value.lower() == "true")


@transaction.atomic
def google_sign_in(*, claims: dict[str, Any]) -> User:
    """The local user for verified Google claims, linking or creating per the policy above."""
    sub = str(claims["sub"])
    extra = {k: claims[k] for k in _KEPT_CLAIMS if k in claims}
    account = (
        SocialAccount.objects.select_related("user").filter(provider=PROVIDER, uid=sub).first()
    )
    if account is not None:
        if not account.user.is_active:
            raise GoogleSignInRefused("user_inactive", "This account is deactivated.", status=403)
        account.extra_data = extra
        account.save(update_fields=["extra_data"])
        return account.user  # type: ignore[return-value]

    email = normalize_email(str(claims.get("email") or ""))
    if not email or not _verified(claims):
        raise GoogleSignInRefused(
            "email_not_verified", "Google has not verified this e-mail address.", status=403
        )
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if not (existing.is_active and existing.email_verified):
            security_log.warning("google_link_refused", user_id=existing.pk, reason="unverified")
            raise GoogleSignInRefused(
                "account_exists",
                "An account with this e-mail already exists. Sign in with its password and "
                "verify the e-mail address before using Google.",
                status=409,
            )
        SocialAccount.objects.create(user=existing, provider=PROVIDER, uid=sub, extra_data=extra)
        security_log.info("google_linked", user_id=existing.pk)
        return existing

    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=None,
                display_name=str(claims.get("name") or "")[:150],
                email_verified=True,
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            user_role_set(user=user, role="user")
            SocialAccount.objects.create(user=user, provider=PROVIDER, uid=sub, extra_data=extra)
    except IntegrityError as exc:  # a concurrent first sign-in of the same account won
        raise GoogleSignInRefused(
            "conflict", "A concurrent sign-in created this account; try again.", status=409
        ) from exc
    return user


def google_browser_configured() -> bool:
    """True when the browser redirect flow can run: a client id in settings or a Google
    ``SocialApp`` row (what django-allauth's provider lookup accepts)."""
    if settings.GOOGLE_OAUTH_CLIENT_ID:
        return True
    return SocialApp.objects.filter(provider=PROVIDER).exists()


@transaction.atomic
def google_unlink(*, user: User, request: HttpRequest | None = None) -> bool:
    """Drop the user's Google link. Refused while Google is the account's only way in (no
    usable password): set one with a password reset first. False when nothing was linked."""
    if not SocialAccount.objects.filter(user=user, provider=PROVIDER).exists():
        return False
    if not user.has_usable_password():
        raise exceptions.ValidationError(
            {
                "google": [
                    "Google is this account's only sign-in; set a password (password reset) "
                    "before unlinking it."
                ]
            }
        )
    SocialAccount.objects.filter(user=user, provider=PROVIDER).delete()
    audit_record(action="google.unlinked", user=user, request=request)
    security_log.info("google_unlinked", user_id=user.pk)
    return True
