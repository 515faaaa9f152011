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
        "mails": services.mails_purge_done(),
    }


@shared_task(name="accounts.build_data_export", acks_late=True, time_limit=600, soft_time_limit=540)
def build_data_export(export_id: str) -> str | None:
    """Idempotent: a re-delivered task finds the export ready (or failed) and does nothing."""
    export = services.data_export_build(export_id=export_id)
    return export.status if export is not None else None


# Mail: the outbox (services.outbox writes, services.mail sends). Rows are claimed, so a
# re-delivered task (acks_late, a worker killed mid-send) or a sweep running alongside never
# sends a row twice. No result is stored: a publish must not touch the result backend (it can
# stall with the broker; services.outbox publishes with ignore_result too).
@shared_task(
    name="accounts.deliver_mail",
    acks_late=True,
    ignore_result=True,
    time_limit=60,
    soft_time_limit=50,
)
def deliver_mail(mail_ids: list[int]) -> dict[str, str]:
    return {str(i): services.mail_deliver(mail_id=i) for i in mail_ids}


@shared_task(name="accounts.mail_sweep", acks_late=True, time_limit=300, soft_time_limit=240)
def mail_sweep() -> dict[str, int]:
    """Every minute: rows whose publish was lost (broker down) or whose worker died."""
    return services.mails_sweep()
