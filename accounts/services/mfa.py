"""Two-factor sign-in: TOTP (RFC 6238, pyotp) with single-use recovery codes.

- Enrol makes a secret and a QR code (an SVG made locally by ``qrcode``, no third party);
  confirm with a first code turns 2FA on and hands out recovery codes (shown once, stored as
  SHA-256 digests).
- A TOTP code is accepted once: the device keeps the time step of the last accepted code and
  a conditional UPDATE refuses that step (and older ones) afterwards, so a code replayed inside
  its 30-second window is refused, even by two concurrent requests.
- Every wrong code counts toward django-axes' lockout of the account (``user_login_failed``),
  exactly like a wrong password; a locked account gets 429 before any code is checked.
- A password (or Google) sign-in of a 2FA user returns a short-lived single-use challenge
  instead of tokens; ``mfa_signin_complete`` trades challenge + code for a token pair.
"""

from __future__ import annotations

import hmac
import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, login
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.lockout import AccountLocked, lockout_seconds
from accounts.models import AuditEvent, MfaChallenge, RecoveryCode, TotpDevice, User

from .audit import audit_record
from .hashed_secrets import digest, new_secret
from .tokens import TokenPair, token_pair_issue

# The backend recorded in the session of a sign-in finished by our own views.
SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"
_CODE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


class MfaCodeInvalid(exceptions.APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Invalid or already used code."
    default_code = "invalid_mfa_code"


class MfaChallengeInvalid(exceptions.APIException):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "Invalid, used or expired challenge; sign in again."
    default_code = "invalid_mfa_challenge"


class MfaAlreadyEnabled(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Two-factor authentication is already on; turn it off first."
    default_code = "mfa_already_enabled"


class MfaNotEnabled(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Two-factor authentication is not on."
    default_code = "mfa_not_enabled"


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    otpauth_uri: str
    qr_svg: str


@dataclass(frozen=True, slots=True)
class MfaChallengeIssued:
    challenge: str
    expires_at: datetime
    expires_in: int


# --- helpers --------------------------------------------------------------------------------
def mfa_enabled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def _credentials(user: User) -> dict[str, str]:
    return {"email": user.email}


def _refuse_if_locked(request: HttpRequest, user: User) -> None:
    if not AxesProxyHandler.is_allowed(request, _credentials(user)):
        raise AccountLocked(retry_after=lockout_seconds())


def _count_failure(request: HttpRequest, user: User, *, action: str) -> None:
    """A wrong code is a failed login for axes (per account and per IP) and an audit row."""
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request)
    audit_record(action=action, user=user, request=request, outcome=AuditEvent.Outcome.FAILURE)
    if getattr(request, "axes_locked_out", False):
        audit_record(
            action="signin.locked", user=user, request=request, outcome=AuditEvent.Outcome.FAILURE
        )
        raise AccountLocked(retry_after=lockout_seconds())


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret)


def _totp_accept(device: TotpDevice, code: str) -> bool:
    """True once per time step: the matching step must be newer than the last accepted one,
    and the conditional UPDATE that records it must win."""
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return False
    totp = _totp(device.secret)
    now_step = totp.timecode(timezone.now())
    window = max(0, int(settings.MFA_TOTP_VALID_WINDOW))
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            won = TotpDevice.objects.filter(pk=device.pk, last_step__lt=step).update(last_step=step)
            return bool(won)
    return False


def _normalise_recovery(code: str) -> str:
    return re.sub(r"[\s\-]", "", code).lower()


def _recovery_accept(user: User, code: str) -> bool:
    code = _normalise_recovery(code)
    if not 8 <= len(code) <= 32:
        return False
    won = RecoveryCode.objects.filter(user=user, digest=digest(code), used_at__isnull=True).update(
        used_at=timezone.now()
    )
    return bool(won)


def _new_recovery_codes(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    count = max(1, int(settings.MFA_RECOVERY_CODE_COUNT))
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, digest=digest(_normalise_recovery(c))) for c in codes]
    )
    return codes


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()


def _reauthenticate(
    *, request: HttpRequest, user: User, code: str | None, password: str | None
) -> None:
    """A fresh TOTP/recovery code or the password; failures count toward the lockout."""
    _refuse_if_locked(request, user)
    if code:
        device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
        if device is not None and (_totp_accept(device, code) or _recovery_accept(user, code)):
            return
        _count_failure(request, user, action="mfa.reauth")
        raise MfaCodeInvalid()
    if password and user.has_usable_password():
        # authenticate() goes through axes, which counts a wrong password by itself.
        if authenticate(request=request, email=user.email, password=password) is not None:
            return
        if getattr(request, "axes_locked_out", False):
            raise AccountLocked(retry_after=lockout_seconds())
        raise exceptions.ValidationError({"password": ["The password is wrong."]})
    raise exceptions.ValidationError({"code": ["A current code or the password is required."]})


def user_reauthenticate(
    *, request: HttpRequest, user: User, code: str | None = None, password: str | None = None
) -> None:
    """Before a sensitive change (the dashboard's account deletion): a fresh TOTP/recovery
    code or the password; wrong ones count toward the lockout, errors as the API words them."""
    _reauthenticate(request=request, user=user, code=code, password=password)


# --- enrolment ------------------------------------------------------------------------------
def _enrolment(user: User, secret: str) -> TotpEnrolment:
    uri = _totp(secret).provisioning_uri(name=user.email, issuer_name=settings.MFA_TOTP_ISSUER)
    return TotpEnrolment(secret=secret, otpauth_uri=uri, qr_svg=_qr_svg(uri))


def totp_enrolment_pending(*, user: User) -> TotpEnrolment | None:
    """The started, unconfirmed enrolment (to show its QR code again after a wrong first
    code), or None."""
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    return None if device is None else _enrolment(user, device.secret)


@transaction.atomic
def totp_enrol(*, user: User) -> TotpEnrolment:
    """A new secret (replacing an unconfirmed one); 2FA stays off until confirmed."""
    if mfa_enabled(user):
        raise MfaAlreadyEnabled()
    secret = pyotp.random_base32()
    TotpDevice.objects.update_or_create(
        user=user,
        defaults={"secret": secret, "confirmed_at": None, "last_step": 0},
    )
    return _enrolment(user, secret)


def totp_confirm(*, request: HttpRequest, user: User, code: str) -> list[str]:
    """Turn 2FA on with a first code from the app; returns the recovery codes (shown once)."""
    _refuse_if_locked(request, user)
    device = TotpDevice.objects.filter(user=user).first()
    if device is None:
        raise MfaNotEnabled("Start with POST auth/mfa/totp.")
    if device.confirmed_at is not None:
        raise MfaAlreadyEnabled()
    if not _totp_accept(device, code):
        _count_failure(request, user, action="mfa.confirm")
        raise MfaCodeInvalid()
    with transaction.atomic():
        TotpDevice.objects.filter(pk=device.pk).update(confirmed_at=timezone.now())
        codes = _new_recovery_codes(user)
        audit_record(action="mfa.enabled", user=user, request=request)
    return codes


def totp_disable(
    *, request: HttpRequest, user: User, code: str | None = None, password: str | None = None
) -> None:
    if not mfa_enabled(user):
        raise MfaNotEnabled()
    _reauthenticate(request=request, user=user, code=code, password=password)
    with transaction.atomic():
        TotpDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
        audit_record(action="mfa.disabled", user=user, request=request)


def recovery_codes_regenerate(
    *, request: HttpRequest, user: User, code: str | None = None, password: str | None = None
) -> list[str]:
    """New recovery codes (the old ones die); needs a fresh code or the password."""
    if not mfa_enabled(user):
        raise MfaNotEnabled()
    _reauthenticate(request=request, user=user, code=code, password=password)
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit_record(action="mfa.recovery_codes_regenerated", user=user, request=request)
    return codes


def recovery_codes_left(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# --- sign-in --------------------------------------------------------------------------------
@transaction.atomic
def mfa_challenge_issue(*, user: User, method: str) -> MfaChallengeIssued:
    ttl = max(30, int(settings.MFA_CHALLENGE_TTL_SECONDS))
    raw = new_secret(32)
    expires_at = timezone.now() + timedelta(seconds=ttl)
    MfaChallenge.objects.create(digest=digest(raw), user=user, method=method, expires_at=expires_at)
    return MfaChallengeIssued(challenge=raw, expires_at=expires_at, expires_in=ttl)


def _challenge_check(
    *, request: HttpRequest, challenge: str, code: str
) -> tuple[MfaChallenge, str]:
    """The live challenge and the second factor that matched ("totp" or "recovery_code").
    A wrong code counts toward the lockout and leaves the challenge usable."""
    now = timezone.now()
    row = (
        MfaChallenge.objects.select_related("user")
        .filter(digest=digest(challenge), used_at__isnull=True, expires_at__gt=now)
        .first()
        if challenge and len(challenge) <= 200
        else None
    )
    if row is None or not row.user.is_active:
        raise MfaChallengeInvalid()
    user = row.user
    _refuse_if_locked(request, user)
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    used = None
    if device is not None and _totp_accept(device, code):
        used = "totp"
    elif device is not None and _recovery_accept(user, code):
        used = "recovery_code"
    if used is None:
        _count_failure(request, user, action="signin.mfa")
        raise MfaCodeInvalid()
    return row, used


def _challenge_consume(row: MfaChallenge) -> None:
    won = MfaChallenge.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    )
    if not won:  # a concurrent request with the same challenge got there first
        raise MfaChallengeInvalid()


def mfa_signin_complete(*, request: HttpRequest, challenge: str, code: str) -> TokenPair:
    """Challenge + TOTP or recovery code -> token pair. A wrong code leaves the challenge
    usable (until it expires or the account locks); a right one consumes it."""
    row, used = _challenge_check(request=request, challenge=challenge, code=code)
    user = row.user
    with transaction.atomic():
        _challenge_consume(row)
        pair = token_pair_issue(user=user, method=row.method)
        audit_record(
            action="signin",
            user=user,
            request=request,
            data={"method": row.method, "second_factor": used},
        )
    # As for a password sign-in: axes clears the account's failures, Django sets last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return pair


def mfa_signin_session(*, request: HttpRequest, challenge: str, code: str) -> User:
    """The dashboard's second step: the same challenge and code checks as
    ``mfa_signin_complete``, ending in a session (``django.contrib.auth.login``) instead of
    tokens."""
    row, used = _challenge_check(request=request, challenge=challenge, code=code)
    user = row.user
    with transaction.atomic():
        _challenge_consume(row)
        audit_record(
            action="signin",
            user=user,
            request=request,
            data={"method": row.method, "second_factor": used, "session": True},
        )
    # login() announces user_logged_in: axes clears the account's failures, last_login moves.
    login(request, user, backend=SESSION_BACKEND)
    return user


@transaction.atomic
def mfa_challenges_purge_expired(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    deleted, _ = MfaChallenge.objects.filter(expires_at__lte=now).delete()
    return deleted


def mfa_code_check(
    *, request: HttpRequest, user: User, code: str, action: str = "signin.mfa"
) -> bool:
    """For the browser sign-ins (allauth's login stage, the Django admin's form): one TOTP or
    recovery code, single use; a wrong one counts toward the lockout and is audited. Returns
    False for a wrong code; raises ``AccountLocked`` when the account is (or becomes) locked."""
    _refuse_if_locked(request, user)
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
    if device is not None and code and (_totp_accept(device, code) or _recovery_accept(user, code)):
        return True
    _count_failure(request, user, action=action)
    return False


@transaction.atomic
def mfa_reset(*, user: User, actor: User, request: HttpRequest | None = None) -> bool:
    """Staff turn 2FA off for a user who lost the device (audited with the actor)."""
    deleted, _ = TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    if deleted:
        audit_record(
            action="mfa.reset",
            user=user,
            actor=actor,
            request=request,
            target_type="user",
            target_id=user.pk,
        )
    return bool(deleted)
