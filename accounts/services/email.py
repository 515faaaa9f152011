"""E-mail address verification over the API: a signed, expiring token mailed by a task.

Verifying matters beyond hygiene: Google sign-in links to an existing local account only
when that account's address is verified (see ``accounts.services.google``).
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.db import transaction
from rest_framework import exceptions

from accounts.models import OutboundMail, User

from .outbox import mail_enqueue

SALT = "accounts.email-verification"


def _token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=SALT)


def email_verification_request(*, user: User) -> bool:
    """Write the mail to the outbox (in the caller's transaction); False when there is
    nothing to verify. A broker outage never fails or slows the request (see services.outbox)."""
    if user.email_verified or not user.is_active:
        return False
    mail_enqueue(kind=OutboundMail.Kind.EMAIL_VERIFICATION, to_email=user.email, user_id=user.pk)
    return True


def email_verification_message(*, user_id: int) -> tuple[str, str, str] | None:
    """(subject, body, recipient), built at send time; None once there is nothing to verify."""
    user = User.objects.filter(pk=user_id, is_active=True, email_verified=False).first()
    if user is None:
        return None
    token = _token(user)
    link = settings.EMAIL_VERIFY_URL_TEMPLATE.format(token=token)
    body = (
        "Confirm the e-mail address of your cryptocast account.\n\n"
        f"Code: {token}\nOr open: {link}\n\n"
        "If you did not create an account, ignore this message."
    )
    return "cryptocast: confirm your e-mail address", body, user.email


@transaction.atomic
def email_verify_confirm(*, token: str) -> User:
    invalid = exceptions.ValidationError({"token": ["Invalid or expired verification code."]})
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.EMAIL_VERIFY_MAX_AGE_HOURS * 3600)
        user = User.objects.select_for_update().get(pk=data["u"], is_active=True)
    except (signing.BadSignature, KeyError, TypeError, User.DoesNotExist) as exc:
        raise invalid from exc
    if user.email.lower() != data.get("e"):  # the address changed since the mail went out
        raise invalid
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])
    EmailAddress.objects.filter(user=user, email__iexact=user.email).update(verified=True)
    return user
