"""The accounts mail outbox (issue 16, findings 1 and 2): a mail row is written with the user,
a request never waits on the broker, nothing is lost or sent twice, and a password reset does
the same work in the request for every address."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def _signup(api_client, email="new@example.com"):  # type: ignore[no-untyped-def]
    return api_client.post(
        "/api/v1/auth/signup", {"email": email, "password": PASSWORD}, format="json"
    )


def _shape(sql: str) -> str:
    """A statement without its literal values (quoted strings, numbers)."""
    return re.sub(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b", "?", sql)


@pytest.fixture
def broker_down(task_stub):  # type: ignore[no-untyped-def]
    tries: list[dict] = []

    def apply_async(**options):  # type: ignore[no-untyped-def]
        tries.append(options)
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    task_stub("accounts.deliver_mail", apply_async)
    return tries


def test_signup_writes_the_mail_row_in_the_users_transaction(
    api_client, django_user_model, broker_down, django_capture_on_commit_callbacks
):
    from accounts.models import OutboundMail

    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(api_client)
    assert response.status_code == 201, response.content
    user = django_user_model.objects.get(email="new@example.com")
    row = OutboundMail.objects.get()
    assert (row.kind, row.user_id, row.to_email, row.status) == (
        "email_verification",
        user.pk,
        "new@example.com",
        "pending",
    )
    # one publish try, no kombu retry loop in the request
    assert len(broker_down) == 1 and broker_down[0]["retry"] is False


def test_a_failed_signup_leaves_no_mail_row(api_client, make_user):
    from accounts.models import OutboundMail

    make_user(email="taken@example.com")
    assert _signup(api_client, "taken@example.com").status_code == 400
    assert not OutboundMail.objects.exists()


def test_mail_lost_at_publish_is_delivered_by_the_sweep_once(
    api_client, broker_down, django_capture_on_commit_callbacks
):
    from accounts import tasks

    with django_capture_on_commit_callbacks(execute=True):
        _signup(api_client)
    assert mail.outbox == []
    assert tasks.mail_sweep() == {"sent": 1}
    assert tasks.mail_sweep() == {}
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    assert mail.outbox[0].extra_headers["Message-ID"].endswith("@cryptocast>")


def test_a_redelivered_task_sends_nothing_twice(
    api_client, broker_down, django_capture_on_commit_callbacks
):
    from accounts import tasks
    from accounts.models import OutboundMail

    with django_capture_on_commit_callbacks(execute=True):
        _signup(api_client)
    mail_id = OutboundMail.objects.get().pk
    assert tasks.deliver_mail(mail_ids=[mail_id]) == {str(mail_id): "sent"}
    # acks_late re-delivery, a sweep running alongside: the row is no longer claimable
    assert tasks.deliver_mail(mail_ids=[mail_id]) == {str(mail_id): "not_claimed"}
    assert tasks.mail_sweep() == {}
    assert len(mail.outbox) == 1


def test_a_worker_that_died_mid_send_is_taken_over_after_its_lease(
    api_client, broker_down, settings, django_capture_on_commit_callbacks
):
    import time_machine
    from django.utils import timezone

    from accounts import tasks
    from accounts.models import OutboundMail
    from accounts.services.mail import _claim

    with django_capture_on_commit_callbacks(execute=True):
        _signup(api_client)
    row = OutboundMail.objects.get()
    assert _claim(row.pk, timezone.now())  # a worker claimed it, then was SIGKILLed
    assert tasks.mail_sweep() == {}  # the lease holds: nobody else sends it
    with time_machine.travel(
        timezone.now() + timezone.timedelta(seconds=settings.ACCOUNTS_MAIL_LEASE_SECONDS + 1)
    ):
        assert tasks.mail_sweep() == {"sent": 1}
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(mail.outbox) == 1


def test_smtp_failure_is_retried_later_not_lost(
    api_client, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    from django.core.mail import EmailMessage

    from accounts import tasks
    from accounts.models import OutboundMail

    with django_capture_on_commit_callbacks(execute=True):
        _signup(api_client)

    def refuse(self, fail_silently=False):  # type: ignore[no-untyped-def]
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(EmailMessage, "send", refuse)
    assert tasks.mail_sweep() == {"pending": 1}
    row = OutboundMail.objects.get()
    assert row.status == "pending" and row.next_attempt_at > row.created_at
    assert "smtp down" in row.last_error


def test_password_reset_request_does_the_same_work_for_known_and_unknown_addresses(
    api_client, user, django_capture_on_commit_callbacks
):
    """Finding 2: the timing oracle came from account-dependent work in the request (a user
    lookup, then a broker publish for known addresses only). The request now writes one row
    whatever the address: same statements, same on-commit work, no read of the user table."""

    def run(email: str) -> tuple[list[str], int]:
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=False) as callbacks,
        ):
            response = api_client.post(
                "/api/v1/auth/password-reset", {"email": email}, format="json"
            )
        assert response.status_code == 200
        return [_shape(q["sql"]) for q in queries.captured_queries], len(callbacks)

    known_sql, known_callbacks = run(user.email)
    unknown_sql, unknown_callbacks = run("nobody@example.com")
    assert known_sql == unknown_sql
    assert known_callbacks == unknown_callbacks == 1
    assert not [q for q in known_sql if "accounts_user" in q and "SELECT" in q.upper()]
    assert sum(q.lstrip().upper().startswith("INSERT") for q in known_sql) == 1


def test_finished_rows_are_purged_after_the_retention(api_client, user, settings):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import OutboundMail
    from accounts.services import mails_purge_done

    OutboundMail.objects.create(kind="password_reset", to_email="a@x.io", idempotency_key="a")
    OutboundMail.objects.create(
        kind="password_reset", to_email="b@x.io", idempotency_key="b", status="sent"
    )
    later = timezone.now() + timedelta(days=settings.ACCOUNTS_MAIL_RETENTION_DAYS, minutes=1)
    assert mails_purge_done(now=later) == 1
    assert list(OutboundMail.objects.values_list("to_email", flat=True)) == ["a@x.io"]
