"""Celery entry points of ``accounts``: housekeeping, idempotent (re-running changes nothing)."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.purge_expired", acks_late=True, time_limit=300, soft_time_limit=240)
def purge_expired() -> dict[str, int]:
    """Expired one-time codes and refresh-token records; accounts past the deletion grace."""
    return {
        "codes": services.codes_purge_expired(),
        "refresh_tokens": services.token_records_purge_expired(),
        "accounts_anonymised": services.accounts_purge_deactivated(),
    }


# Mail tasks: SMTP hiccups (OSError) are retried with backoff and jitter.
_MAIL_TASK_OPTIONS = {
    "acks_late": True,
    "time_limit": 60,
    "soft_time_limit": 50,
    "autoretry_for": (OSError,),
    "retry_backoff": 10,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="accounts.send_password_reset_mail", **_MAIL_TASK_OPTIONS)
def send_password_reset_mail(user_id: int) -> bool:
    return services.password_reset_mail_send(user_id=user_id)


@shared_task(name="accounts.send_email_verification_mail", **_MAIL_TASK_OPTIONS)
def send_email_verification_mail(user_id: int) -> bool:
    return services.email_verification_mail_send(user_id=user_id)
