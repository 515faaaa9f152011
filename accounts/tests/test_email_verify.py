"""E-mail verification over the API, and why it matters for Google linking."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _publish(enqueued) -> None:  # type: ignore[no-untyped-def]
    """Every test here runs the outbox publish in-process (see conftest.enqueued)."""


def mailed_code() -> str:
    return re.search(r"Code: (\S+)", mail.outbox[-1].body).group(1)


def confirm(api_client, token):  # type: ignore[no-untyped-def]
    return api_client.post("/api/v1/auth/email/verify/confirm", {"token": token}, format="json")


def test_signup_mails_a_code_that_verifies_the_address(
    api_client, enqueued, django_user_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            "/api/v1/auth/signup", {"email": "v@example.com", "password": PASSWORD}, format="json"
        )
    user = django_user_model.objects.get(email="v@example.com")
    assert enqueued == [{"kind": "email_verification", "to": "v@example.com"}]
    assert mail.outbox[-1].to == ["v@example.com"]
    response = confirm(api_client, mailed_code())
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_verified


def test_verified_local_account_can_then_link_google(
    api_client, pair, user, google, django_capture_on_commit_callbacks
):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post("/api/v1/auth/email/verify").status_code == 202
    api_client.credentials()
    assert confirm(api_client, mailed_code()).status_code == 200
    linked = api_client.post(
        "/api/v1/auth/oauth/google/mobile",
        {"id_token": google.id_token(email=user.email)},
        format="json",
    )
    assert linked.status_code == 200


def test_expired_or_tampered_codes_are_refused(
    api_client, pair, user, settings, django_capture_on_commit_callbacks
):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/email/verify")
    api_client.credentials()
    code = mailed_code()
    assert confirm(api_client, code[:-2] + "xx").status_code == 400
    later = timedelta(hours=settings.EMAIL_VERIFY_MAX_AGE_HOURS, minutes=1)
    with time_machine.travel(later):
        response = confirm(api_client, code)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "token"
    user.refresh_from_db()
    assert not user.email_verified


def test_already_verified_address_needs_no_mail(api_client, make_user, enqueued):
    from accounts.services import token_pair_issue

    verified = make_user(email="done@example.com", email_verified=True)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=verified).access}")
    response = api_client.post("/api/v1/auth/email/verify")
    assert response.status_code == 200
    assert enqueued == []


def test_verify_request_needs_authentication(api_client):
    assert api_client.post("/api/v1/auth/email/verify").status_code == 401
