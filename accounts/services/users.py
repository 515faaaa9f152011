"""Sign-up, sign-in, profile, password change/reset and account deactivation."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import (
    authenticate,
    login,
    logout,
    password_validation,
    update_session_auth_hash,
)
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework import exceptions, status

from accounts.lockout import AccountLocked, lockout_seconds
from accounts.models import (
    ApiKey,
    AuditEvent,
    MfaChallenge,
    OneTimeCode,
    OutboundMail,
    RecoveryCode,
    TokenFamily,
    TotpDevice,
    User,
)

from .audit import audit_record
from .email import email_verification_request
from .mfa import (
    SESSION_BACKEND,
    MfaChallengeIssued,
    mfa_challenge_issue,
    mfa_enabled,
    user_reauthenticate,
)
from .outbox import mail_enqueue
from .roles import user_role_set
from .tokens import (
    EnrolTokenIssued,
    TokenPair,
    token_enrol_issue,
    token_pair_issue,
    tokens_revoke_all,
)

security_log = structlog.get_logger("cryptocast.security")

INVALID_CREDENTIALS = "Invalid e-mail or password."


class InvalidCredentials(exceptions.APIException):
    """401 with one fixed body, whether the e-mail is unknown or the password wrong."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = INVALID_CREDENTIALS
    default_code = "invalid_credentials"


def normalize_email(email: str) -> str:
    return User.objects.normalize_email(email.strip()).lower()


def _validate_password(password: str, *, user: User, field: str) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({field: list(exc.messages)}) from exc


@transaction.atomic
def user_signup(*, email: str, password: str, display_name: str = "") -> User:
    email = normalize_email(email)
    candidate = User(email=email, display_name=display_name)
    _validate_password(password, user=candidate, field="password")
    taken = exceptions.ValidationError({"email": ["An account with this e-mail already exists."]})
    if User.objects.filter(email__iexact=email).exists():
        raise taken
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email, password=password, display_name=display_name
            )
    except IntegrityError as exc:  # a concurrent sign-up with the same address won
        raise taken from exc
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=False)
    user_role_set(user=user, role="user")
    email_verification_request(user=user)  # mailed by a task after commit
    return user


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """Every password check goes through Django's ``authenticate`` so django-axes counts
    failures per account and per IP (the admin and allauth's views go the same way)."""
    email = normalize_email(email)
    user = authenticate(request=request, email=email, password=password)
    if user is None or getattr(request, "axes_locked_out", False):
        # The account concerned sees its failed attempts; an unknown e-mail leaves a row
        # with no user (and no e-mail: a password typed into the wrong field must not land
        # in the log).
        known = User.objects.filter(email__iexact=email).first()
        locked = getattr(request, "axes_locked_out", False)
        audit_record(
            action="signin.locked" if locked else "signin",
            user=known,
            request=request,
            outcome=AuditEvent.Outcome.FAILURE,
        )
        if locked:
            raise AccountLocked(retry_after=lockout_seconds())
        raise InvalidCredentials()
    return user  # type: ignore[return-value]


def _mfa_gate(*, request: HttpRequest, user: User, method: str) -> MfaChallengeIssued | None:
    """A 2FA user gets a challenge (audited) instead of being signed in."""
    if not mfa_enabled(user):
        return None
    issued = mfa_challenge_issue(user=user, method=method)
    audit_record(action="signin.mfa_required", user=user, request=request, data={"method": method})
    return issued


def signin_finish(
    *, request: HttpRequest, user: User, method: str
) -> TokenPair | MfaChallengeIssued | EnrolTokenIssued:
    """The last step of every sign-in (password, Google): a 2FA user gets a challenge to
    complete with ``mfa_signin_complete``; staff without 2FA under ``MFA_REQUIRED_FOR_STAFF``
    an enrolment-scoped token (no pair); anyone else a token pair."""
    issued = _mfa_gate(request=request, user=user, method=method)
    if issued is not None:
        return issued
    if settings.MFA_REQUIRED_FOR_STAFF and user.is_staff:
        with transaction.atomic():
            enrol = token_enrol_issue(user=user, method=method)
            audit_record(
                action="signin.mfa_enrolment_required",
                user=user,
                request=request,
                data={"method": method},
            )
        return enrol
    with transaction.atomic():
        pair = token_pair_issue(user=user, method=method)
        audit_record(action="signin", user=user, request=request, data={"method": method})
    # What django.contrib.auth.login() would announce, minus the session: django-axes resets
    # the account's failure count and Django updates last_login.
    user_logged_in.send(sender=user.__class__, request=request, user=user)
    return pair


def user_signin(
    *, request: HttpRequest, email: str, password: str
) -> TokenPair | MfaChallengeIssued | EnrolTokenIssued:
    # ModelBackend upgrades a legacy (e.g. PBKDF2) hash to Argon2id on a successful check.
    user = user_authenticate(request=request, email=email, password=password)
    return signin_finish(request=request, user=user, method="password")


def user_session_signin(
    *, request: HttpRequest, email: str, password: str
) -> MfaChallengeIssued | None:
    """The dashboard's sign-in: the API's password check, lockout and 2FA challenge, ending
    in a session (``django.contrib.auth.login``) instead of tokens. Returns the challenge
    when a second factor is needed (finish with ``mfa_signin_session``), else None."""
    user = user_authenticate(request=request, email=email, password=password)
    issued = _mfa_gate(request=request, user=user, method="password")
    if issued is not None:
        return issued
    login(request, user, backend=SESSION_BACKEND)  # announces user_logged_in (axes, last_login)
    audit_record(
        action="signin", user=user, request=request, data={"method": "password", "session": True}
    )
    return None


@transaction.atomic
def user_profile_update(*, user: User, display_name: str) -> User:
    user.display_name = display_name
    user.save(update_fields=["display_name"])
    return user


def _password_change_checked(
    *, request: HttpRequest, user: User, current_password: str, new_password: str
) -> None:
    if not user.has_usable_password():
        raise exceptions.ValidationError(
            {"current_password": ["This account has no password; use password reset."]}
        )
    try:
        user_authenticate(request=request, email=user.email, password=current_password)
    except InvalidCredentials as exc:
        raise exceptions.ValidationError(
            {"current_password": ["The current password is wrong."]}
        ) from exc
    _validate_password(new_password, user=user, field="new_password")


def _password_changed(*, request: HttpRequest, user: User, new_password: str) -> None:
    """Set, revoke every token, audit: the part both password changes share, inside the
    caller's transaction (the check comes first, outside it: a wrong current password must
    leave its failed attempt recorded for the lockout)."""
    user.set_password(new_password)
    user.save(update_fields=["password"])
    tokens_revoke_all(user=user, reason=TokenFamily.Reason.PASSWORD_CHANGE)
    audit_record(action="password.changed", user=user, request=request)


def user_password_change(
    *, request: HttpRequest, user: User, current_password: str, new_password: str
) -> TokenPair:
    """Checks the current password through axes (so it cannot be brute-forced with a stolen
    access token), revokes every refresh token and returns a fresh pair for this client."""
    _password_change_checked(
        request=request, user=user, current_password=current_password, new_password=new_password
    )
    with transaction.atomic():
        _password_changed(request=request, user=user, new_password=new_password)
        pair = token_pair_issue(user=user, method="password")
    security_log.info("password_changed", user_id=user.pk)
    return pair


def user_password_change_session(
    *, request: HttpRequest, user: User, current_password: str, new_password: str
) -> None:
    """The dashboard's password change: the same checks and revocations as
    ``user_password_change``; this session stays signed in (Django's other sessions of the
    user end, their auth hash no longer matches) and no token pair is issued."""
    _password_change_checked(
        request=request, user=user, current_password=current_password, new_password=new_password
    )
    with transaction.atomic():
        _password_changed(request=request, user=user, new_password=new_password)
    update_session_auth_hash(request, user)
    security_log.info("password_changed", user_id=user.pk)


def user_delete_confirmed(
    *,
    request: HttpRequest,
    user: User,
    password: str = "",
    code: str = "",
    confirm_email: str = "",
) -> None:
    """The dashboard's "delete my account": the password (or a current 2FA code) first, or,
    for an account with neither (Google only), its e-mail typed out; then ``user_deactivate``
    and the session ends."""
    if user.has_usable_password() or mfa_enabled(user):
        user_reauthenticate(
            request=request, user=user, code=code or None, password=password or None
        )
    elif normalize_email(confirm_email) != user.email.lower():
        raise exceptions.ValidationError(
            {"confirm_email": ["Type this account's e-mail address to confirm."]}
        )
    user_deactivate(user=user, request=request)
    logout(request)


@transaction.atomic
def user_deactivate(*, user: User, request: HttpRequest | None = None) -> None:
    """DELETE /me: deactivate now, revoke every credential, erase the profile. The row (and
    the e-mail, so nobody re-registers it meanwhile) is anonymised by the purge job after
    ``ACCOUNT_DELETION_GRACE_DAYS``."""
    now = timezone.now()
    user.is_active = False
    user.deactivated_at = now
    user.display_name = ""
    user.set_unusable_password()
    user.save(update_fields=["is_active", "deactivated_at", "display_name", "password"])
    tokens_revoke_all(user=user, reason=TokenFamily.Reason.DEACTIVATED)
    ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    OneTimeCode.objects.filter(user=user).delete()
    MfaChallenge.objects.filter(user=user).delete()
    TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    audit_record(action="account.deactivated", user=user, request=request)
    security_log.info("account_deactivated", user_id=user.pk)


@transaction.atomic
def accounts_purge_deactivated(*, now: datetime | None = None) -> int:
    """Anonymise accounts deactivated longer than the grace period. Rows owned by the user in
    other apps go with the user's CASCADE rules when staff delete the row; this keeps the row
    (foreign keys from archives stay valid) but drops every personal datum."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS)
    users = list(
        User.objects.filter(is_active=False, deactivated_at__lte=cutoff).exclude(
            email__endswith="@deleted.invalid"
        )
    )
    for user in users:
        EmailAddress.objects.filter(user=user).delete()
        user.email = f"deleted-{user.pk}@deleted.invalid"
        user.display_name = ""
        user.last_login = None
        user.save(update_fields=["email", "display_name", "last_login"])
        user.groups.clear()
        TokenFamily.objects.filter(user=user).delete()
        ApiKey.objects.filter(user=user).delete()
    return len(users)


def _reset_eligible(user: User | None) -> bool:
    # A Google-only account (no usable password) may set one once its mailbox is proven.
    return (
        user is not None and user.is_active and (user.has_usable_password() or user.email_verified)
    )


def password_reset_request(*, email: str) -> None:
    """The same work for every address: one outbox row with the typed (normalised) address,
    no account lookup. Whether the address has an account is decided by the mail task
    (``password_reset_message``), so neither the answer nor its timing can tell."""
    mail_enqueue(kind=OutboundMail.Kind.PASSWORD_RESET, to_email=normalize_email(email))


def password_reset_message(*, email: str) -> tuple[str, str, str] | None:
    """(subject, body, recipient) of the reset mail, or None when no account may reset (no
    mail at all: nobody is mailed about addresses that have no account). Builds a fresh token
    in the worker (no token ever sits in the broker or the outbox)."""
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None or not _reset_eligible(user):
        return None
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = settings.PASSWORD_RESET_URL_TEMPLATE.format(uid=uid, token=token)
    body = (
        "Someone asked to reset the password of your cryptocast account.\n\n"
        f"Reset code: uid={uid} token={token}\n"
        f"Or open: {link}\n\n"
        "If it was not you, ignore this message; your password is unchanged."
    )
    return "cryptocast password reset", body, user.email


def password_reset_confirm(*, uid: str, token: str, new_password: str) -> None:
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        user = User.objects.get(pk=pk, is_active=True)
    except (ValueError, TypeError, OverflowError, User.DoesNotExist) as exc:
        raise exceptions.ValidationError({"token": ["Invalid or expired reset link."]}) from exc
    if not default_token_generator.check_token(user, token):
        raise exceptions.ValidationError({"token": ["Invalid or expired reset link."]})
    _validate_password(new_password, user=user, field="new_password")
    with transaction.atomic():
        user.set_password(new_password)
        # The mailed token proves the user reads this mailbox: the address is verified.
        user.email_verified = True
        user.save(update_fields=["password", "email_verified"])
        EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
        tokens_revoke_all(user=user, reason=TokenFamily.Reason.PASSWORD_RESET)
        # The owner proved the mailbox: failed sign-ins against the account stop counting
        # (a lockout's way back in besides the cool-off).
        AccessAttempt.objects.filter(username=user.email.lower()).delete()
        audit_record(action="password.reset", user=user)
    security_log.info("password_reset", user_id=user.pk)
