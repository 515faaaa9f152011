from django.apps import AppConfig

from core.signals import data_exported, staff_action


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # ready() wiring: the schedule module imports django-celery-beat's models
        from core.schedules import PeriodicJob, register

        from . import checks, schema  # noqa: F401  (registers system checks, schema extensions)

        # ready() wiring: the audit receivers import accounts' models
        from .services.audit import audit_staff_action, audit_table_export

        # core's staff operations (cache clear, schedule set-up) leave audit rows too, and so
        # does a signed-in user's spreadsheet download (?format=csv|xlsx)
        staff_action.connect(audit_staff_action, dispatch_uid="accounts.audit_staff_action")
        data_exported.connect(audit_table_export, dispatch_uid="accounts.audit_table_export")

        register(
            PeriodicJob(
                name="accounts: purge expired credentials",
                task="accounts.purge_expired",
                crontab="17 * * * *",
                expire_seconds=3000,
                description="Expired tickets/codes, MFA challenges, refresh-token records "
                "and data exports (files too); audit events older than AUDIT_RETENTION_DAYS; "
                "anonymise accounts deleted more than ACCOUNT_DELETION_GRACE_DAYS ago.",
            )
        )
        register(
            PeriodicJob(
                name="accounts: deliver pending mails",
                task="accounts.mail_sweep",
                every_seconds=60,
                expire_seconds=55,
                description="The outbox's safety net: sign-up verification and password-reset "
                "mails whose publish was lost (broker down) or whose worker died mid-send.",
            )
        )
