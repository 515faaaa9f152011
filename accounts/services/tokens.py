"""JWT pairs grouped in token families: rotation, reuse detection and revocation.

simplejwt 5.5.1 ships no token-family support, so every refresh token's ``jti`` is recorded
in ``RefreshTokenRecord`` under the ``TokenFamily`` of the sign-in it descends from. A refresh
consumes its record with one conditional UPDATE (``used_at IS NULL`` -> now): of two concurrent
refreshes with the same token exactly one updates the row; the other sees a rotated token,
which is treated as reuse and revokes the whole family. simplejwt's blacklist is kept in step
(rotated and revoked tokens are blacklisted) so its own code paths refuse them too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, UntypedToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import RefreshTokenRecord, TokenFamily, User

security_log = structlog.get_logger("cryptocast.security")

FAMILY_CLAIM = "fam"
SCOPE_CLAIM = "scope"
#: an access token with this scope opens only the 2FA enrolment endpoints
#: (``accounts.authentication.ENROL_URL_NAMES``)
ENROL_SCOPE = "mfa_enrol"


@dataclass(frozen=True, slots=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True, slots=True)
class EnrolTokenIssued:
    """Staff without 2FA under ``MFA_REQUIRED_FOR_STAFF``: no pair, only a short-lived access
    token that can enrol and confirm TOTP (then sign in again, with the code)."""

    token: str
    expires_at: datetime
    expires_in: int


class TokenRejected(Exception):
    """A refresh token that must not be honoured; ``code`` is safe to show to the client."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _issue(*, user: User, family: TokenFamily) -> TokenPair:
    refresh = RefreshToken()  # fresh exp, iat, jti
    refresh[api_settings.USER_ID_CLAIM] = getattr(user, api_settings.USER_ID_FIELD)
    refresh[FAMILY_CLAIM] = str(family.id)
    jti = refresh[api_settings.JTI_CLAIM]
    expires_at = datetime_from_epoch(refresh["exp"])
    RefreshTokenRecord.objects.create(jti=jti, family=family, expires_at=expires_at)
    raw = str(refresh)
    # simplejwt's own bookkeeping, so its blacklist can refuse the token as well.
    OutstandingToken.objects.create(
        user=user, jti=jti, token=raw, created_at=timezone.now(), expires_at=expires_at
    )
    return TokenPair(access=str(refresh.access_token), refresh=raw)


def _blacklist(jtis: Iterable[str]) -> None:
    outstanding = OutstandingToken.objects.filter(jti__in=list(jtis))
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=o) for o in outstanding], ignore_conflicts=True
    )


def _revoke(families: QuerySet[TokenFamily], *, reason: str) -> int:
    now = timezone.now()
    ids = list(families.filter(revoked_at__isnull=True).values_list("id", flat=True))
    if not ids:
        return 0
    TokenFamily.objects.filter(id__in=ids, revoked_at__isnull=True).update(
        revoked_at=now, revoke_reason=reason
    )
    live = RefreshTokenRecord.objects.filter(
        family_id__in=ids, used_at__isnull=True, expires_at__gt=now
    ).values_list("jti", flat=True)
    _blacklist(live)
    return len(ids)


def _decode_refresh(raw: str) -> dict[str, Any]:
    """Signature, expiry and type; deliberately not simplejwt's blacklist check, which would
    hide a reused (rotated, hence blacklisted) token from reuse detection."""
    try:
        token = UntypedToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise TokenRejected("token_not_valid", "Token is invalid or expired.") from exc
    payload = token.payload
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh" or not payload.get(FAMILY_CLAIM):
        raise TokenRejected("token_not_valid", "Token is invalid or expired.")
    return payload


@transaction.atomic
def token_pair_issue(*, user: User, method: str = "password") -> TokenPair:
    """A new sign-in: a new family and its first pair."""
    family = TokenFamily.objects.create(user=user, method=method)
    return _issue(user=user, family=family)


@transaction.atomic
def token_enrol_issue(*, user: User, method: str = "password") -> EnrolTokenIssued:
    """An access token scoped to 2FA enrolment, in a family of its own (so logout-everywhere
    and deactivation revoke it like any other), with no refresh token."""
    family = TokenFamily.objects.create(user=user, method=method)
    seconds = int(settings.MFA_ENROL_TOKEN_SECONDS)
    token = AccessToken()
    token.set_exp(lifetime=timedelta(seconds=seconds))
    token[api_settings.USER_ID_CLAIM] = getattr(user, api_settings.USER_ID_FIELD)
    token[FAMILY_CLAIM] = str(family.id)
    token[SCOPE_CLAIM] = ENROL_SCOPE
    return EnrolTokenIssued(
        token=str(token), expires_at=datetime_from_epoch(token["exp"]), expires_in=seconds
    )


def token_refresh(*, raw: str, ip: str | None = None) -> TokenPair:
    """Rotate: the presented refresh token dies, a new pair in the same family is returned."""
    payload = _decode_refresh(raw)
    jti = payload[api_settings.JTI_CLAIM]
    with transaction.atomic():
        # One conditional UPDATE on the row itself (no join): PostgreSQL re-checks
        # ``used_at IS NULL`` after waiting on a concurrent writer, so only one caller wins.
        consumed = RefreshTokenRecord.objects.filter(jti=jti, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        record = RefreshTokenRecord.objects.select_related("family__user").filter(jti=jti).first()
        if record is None:
            rejection = TokenRejected("token_not_valid", "Token is invalid or expired.")
        elif not consumed:
            family = record.family
            if family.revoked_at is None:
                _revoke(TokenFamily.objects.filter(pk=family.pk), reason=TokenFamily.Reason.REUSE)
                security_log.warning(
                    "refresh_token_reuse",
                    user_id=family.user_id,
                    family_id=str(family.id),
                    ip=ip,
                    action="family_revoked",
                )
            rejection = TokenRejected("token_revoked", "Token has been revoked.")
        elif record.family.revoked_at is not None:
            rejection = TokenRejected("token_revoked", "Token has been revoked.")
        elif not record.family.user.is_active:
            rejection = TokenRejected("user_inactive", "User is inactive.")
        else:
            _blacklist([jti])
            return _issue(user=record.family.user, family=record.family)
    raise rejection


@transaction.atomic
def token_family_revoke(*, raw: str, reason: str = TokenFamily.Reason.LOGOUT) -> None:
    """Logout: the refresh token's whole family (and its access tokens) stop working."""
    payload = _decode_refresh(raw)
    _revoke(TokenFamily.objects.filter(pk=payload[FAMILY_CLAIM]), reason=reason)


@transaction.atomic
def tokens_revoke_all(*, user: User, reason: str) -> int:
    """Every outstanding refresh token of the user (password change, reset, deactivation)."""
    return _revoke(TokenFamily.objects.filter(user=user), reason=reason)


@transaction.atomic
def token_records_purge_expired(*, now: datetime | None = None) -> int:
    """Expired refresh tokens are dead anyway: drop their records, the families left empty,
    and simplejwt's outstanding/blacklisted rows (what its ``flushexpiredtokens`` does)."""
    now = now or timezone.now()
    deleted, _ = RefreshTokenRecord.objects.filter(expires_at__lte=now).delete()
    TokenFamily.objects.filter(tokens__isnull=True, created_at__lte=now).delete()
    OutstandingToken.objects.filter(expires_at__lte=now).delete()
    return deleted
