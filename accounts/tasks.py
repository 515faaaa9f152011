"""Celery entry points of ``accounts``: housekeeping, idempotent (re-running changes nothing)."""

from __future__ import annotations

from celery import shared_task

from accounts import services


@shared_task(name="accounts.purge_expired", acks_late=True, time_limit=300, soft_time_limit=240)
def purge_expired() -> dict[str, int]:
    """Expired one-time codes, MFA challenges, refresh-token records and data exports; audit
    events past AUDIT_RETENTION_DAYS; accounts past the deletion grace."""
    return {
        "codes": services.codes_purge_expired(),
        "mfa_challenges": services.mfa_challenges_purge_expired(),
        "refresh_tokens": services.token_records_purge_expired(),
        "accounts_anonymised": services.accounts_purge_deactivated(),
        "data_exports": services.data_exports_purge_expired(),
        "audit_events": services.audit_events_purge(),
    }


@shared_task(name="accounts.build_data_export", acks_late=True, time_limit=600, soft_time_limit=540)
def build_data_export(export_id: str) -> str | None:
    """Idempotent: a re-delivered task finds the export ready (or failed) and does nothing."""
    export = services.data_export_build(export_id=export_id)
    return export.status if export is not None else None


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
