"""Password reset: identical answers, a working mailed token, revocation."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from .conftest import strip_request_id

pytestmark = pytest.mark.django_db

NEW = "a-brand-new-passphrase-7"


@pytest.fixture(autouse=True)
def _publish(enqueued) -> None:  # type: ignore[no-untyped-def]
    """Every test here runs the outbox publish in-process (see conftest.enqueued)."""


def request_reset(api_client, email):  # type: ignore[no-untyped-def]
    return api_client.post("/api/v1/auth/password-reset", {"email": email}, format="json")


def test_reset_answers_the_same_whether_or_not_the_account_exists(
    api_client, user, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        known = request_reset(api_client, user.email)
        unknown = request_reset(api_client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert strip_request_id(known.json()) == strip_request_id(unknown.json())
    # nothing is sent inside the request: one outbox row each, handed over after commit
    assert enqueued == [] and mail.outbox == []
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert enqueued == [
        {"kind": "password_reset", "to": user.email},
        {"kind": "password_reset", "to": "nobody@example.com"},
    ]
    # the task decided: a mail for the account, nothing for the unknown address
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_reset_mail_task_skips_accounts_that_went_away(
    api_client, user, django_capture_on_commit_callbacks
):
    from accounts.models import OutboundMail

    user.is_active = False
    user.save(update_fields=["is_active"])
    with django_capture_on_commit_callbacks(execute=True):
        request_reset(api_client, user.email)
    assert mail.outbox == []
    assert list(OutboundMail.objects.values_list("status", flat=True)) == ["skipped"]


def test_reset_flow_sets_the_password_and_revokes_tokens(
    api_client, user, pair, signin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request_reset(api_client, user.email)
    body = mail.outbox[0].body
    uid = re.search(r"uid=([\w-]+)", body).group(1)
    token = re.search(r"token=([\w-]+)", body).group(1)
    confirm = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": NEW},
        format="json",
    )
    assert confirm.status_code == 200, confirm.content
    assert signin(user.email, password=NEW).status_code == 200
    user.refresh_from_db()
    assert user.email_verified  # the mailed token proved the mailbox
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    # the token is single use: the password hash changed
    again = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": token, "new_password": NEW + "x"},
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["errors"][0]["attr"] == "token"


def test_reset_confirm_refuses_bad_tokens_and_weak_passwords(api_client, user):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    bad = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": "forged-token", "new_password": NEW},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["attr"] == "token"
    garbage_uid = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": "!!!", "token": "x", "new_password": NEW},
        format="json",
    )
    assert garbage_uid.status_code == 400
    weak = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {"uid": uid, "token": default_token_generator.make_token(user), "new_password": "short"},
        format="json",
    )
    assert weak.status_code == 400
    assert weak.json()["errors"][0]["attr"] == "new_password"
    user.refresh_from_db()
    assert user.check_password("correct-horse-battery-9")


def test_a_broker_outage_does_not_reveal_the_account(
    api_client, user, task_stub, django_capture_on_commit_callbacks
):
    from accounts import tasks
    from accounts.models import OutboundMail

    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("broker down")

    task_stub("accounts.deliver_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        known = request_reset(api_client, user.email)
        unknown = request_reset(api_client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    assert strip_request_id(known.json()) == strip_request_id(unknown.json())
    # nothing lost: both rows wait for the sweep, which mails the account only
    assert OutboundMail.objects.filter(status="pending").count() == 2
    assert tasks.mail_sweep() == {"sent": 1, "skipped": 1}
    assert [m.to for m in mail.outbox] == [[user.email]]
