"""Staff 2FA over the API (``MFA_REQUIRED_FOR_STAFF``: staff without 2FA get only an
enrolment-scoped token) and a 2FA user's Google sign-in asking for the code on every path
(mobile ID token is in test_mfa; here the redirect hand-off and the browser)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent, TotpDevice, User

from .conftest import PASSWORD
from .test_google import exchange, mobile, start

pytestmark = pytest.mark.django_db

SIGNIN = "/api/v1/auth/signin"
ENROL = "/api/v1/auth/mfa/totp"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"


@pytest.fixture
def staff(make_user):  # type: ignore[no-untyped-def]
    staff = make_user(email="ops@example.com")
    services.user_role_set(user=staff, role="staff")
    return staff


def _signin(api_client, email: str):  # type: ignore[no-untyped-def]
    return api_client.post(SIGNIN, {"email": email, "password": PASSWORD}, format="json")


def test_staff_without_2fa_get_only_an_enrolment_token_when_required(api_client, staff, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    response = _signin(api_client, staff.email)
    assert response.status_code == 200
    body = response.json()
    assert body["mfa_enrolment_required"] is True
    assert "access" not in body and "refresh" not in body
    assert body["expires_in"] == settings.MFA_ENROL_TOKEN_SECONDS
    assert "auth/mfa/totp" in body["detail"]
    assert AuditEvent.objects.filter(user=staff, action="signin.mfa_enrolment_required").exists()

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['enrol_token']}")
    # anything but enrolment is refused, with a code that says what to do
    for path in ("/api/v1/auth/me", "/api/v1/cache/status", "/api/v1/auth/api-keys"):
        refused = api_client.get(path)
        assert refused.status_code == 403, path
        assert refused.json()["errors"][0]["code"] == "mfa_enrolment_required"
    assert api_client.post("/api/v1/auth/ws-ticket").status_code == 403

    secret = api_client.post(ENROL).json()["secret"]
    totp = pyotp.TOTP(secret)
    confirmed = api_client.post(CONFIRM, {"code": totp.now()}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["recovery_codes"]

    api_client.credentials()
    again = _signin(api_client, staff.email).json()
    assert again["mfa_required"] is True and "enrol_token" not in again


def test_an_enrolment_token_dies_with_the_accounts_tokens(api_client, staff, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    token = _signin(api_client, staff.email).json()["enrol_token"]
    services.tokens_revoke_all(user=staff, reason="logout")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(ENROL).status_code == 401


def test_staff_get_a_pair_when_not_required_and_users_always(api_client, staff, user, settings):
    settings.MFA_REQUIRED_FOR_STAFF = False
    assert "access" in _signin(api_client, staff.email).json()
    settings.MFA_REQUIRED_FOR_STAFF = True
    assert "access" in _signin(api_client, user.email).json()


def test_staff_with_2fa_get_the_usual_challenge_when_required(api_client, staff, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    services.totp_enrol(user=staff)
    TotpDevice.objects.filter(user=staff).update(confirmed_at=timezone.now())
    body = _signin(api_client, staff.email).json()
    assert body["mfa_required"] is True and "enrol_token" not in body


def test_staff_google_sign_in_honours_the_requirement_too(api_client, google, settings):
    assert "access" in mobile(api_client, google.id_token()).json()
    gina = User.objects.get(email="gina@example.com")
    services.user_role_set(user=gina, role="staff")
    settings.MFA_REQUIRED_FOR_STAFF = True
    body = mobile(api_client, google.id_token()).json()
    assert body["mfa_enrolment_required"] is True and "access" not in body


def _gina_with_2fa(api_client, google) -> pyotp.TOTP:  # type: ignore[no-untyped-def]
    assert "access" in mobile(api_client, google.id_token()).json()
    gina = User.objects.get(email="gina@example.com")
    enrolment = services.totp_enrol(user=gina)
    TotpDevice.objects.filter(user=gina).update(confirmed_at=timezone.now())
    return pyotp.TOTP(enrolment.secret)


def test_a_2fa_users_google_redirect_sign_in_asks_for_the_code(client, api_client, google):
    totp = _gina_with_2fa(api_client, google)
    _, query = start(client)
    callback = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    code = parse_qs(urlparse(callback["Location"]).query)["code"][0]
    body = exchange(api_client, code).json()
    assert body["mfa_required"] is True and "access" not in body
    done = api_client.post(
        "/api/v1/auth/signin/mfa",
        {"challenge": body["challenge"], "code": totp.now()},
        format="json",
    )
    assert done.status_code == 200 and "access" in done.json()


def test_a_2fa_users_google_browser_sign_in_asks_for_the_code(client, api_client, google):
    _gina_with_2fa(api_client, google)
    response = client.post("/accounts/google/login/?process=login")
    query = parse_qs(urlparse(response["Location"]).query)
    callback = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    assert callback.status_code == 302
    assert urlparse(callback["Location"]).path == "/accounts/2fa/"
    assert "_auth_user_id" not in client.session


def test_a_returning_google_user_gets_a_browser_session(client, api_client, google):
    """Regression: allauth had already found the linked account, and a second lookup in our
    adapter tripped its assertion (a 500 on every return visit)."""
    assert "access" in mobile(api_client, google.id_token()).json()
    response = client.post("/accounts/google/login/?process=login")
    query = parse_qs(urlparse(response["Location"]).query)
    callback = client.get(
        "/api/v1/auth/oauth/google/callback", {"code": "good-code", "state": query["state"][0]}
    )
    assert callback.status_code == 302
    gina = User.objects.get(email="gina@example.com")
    assert client.session.get("_auth_user_id") == str(gina.pk)
