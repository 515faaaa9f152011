"""Two-factor sign-in: TOTP enrolment, the API's mfa_required step, single-use codes,
recovery codes, the lockout, Google, the browser (allauth) and the Django admin."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
import time_machine
from axes.models import AccessAttempt
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent, RecoveryCode, TotpDevice

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

ENROL = "/api/v1/auth/mfa/totp"
CONFIRM = "/api/v1/auth/mfa/totp/confirm"
RECOVERY = "/api/v1/auth/mfa/recovery-codes"
SIGNIN_MFA = "/api/v1/auth/signin/mfa"
STEP = timedelta(seconds=30)


def _bearer(api_client, pair):  # type: ignore[no-untyped-def]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    return api_client


@pytest.fixture
def authed(api_client, pair):  # type: ignore[no-untyped-def]
    return _bearer(api_client, pair)


@pytest.fixture
def enabled(authed, user):  # type: ignore[no-untyped-def]
    """2FA on for ``user``: returns (totp, recovery codes). The clock moves a step on so the
    confirming code is spent and the next one is fresh."""
    secret = authed.post(ENROL).json()["secret"]
    totp = pyotp.TOTP(secret)
    response = authed.post(CONFIRM, {"code": totp.now()}, format="json")
    assert response.status_code == 200, response.content
    authed.credentials()
    return totp, response.json()["recovery_codes"]


# --- enrolment ----------------------------------------------------------------------------------
def test_enrol_returns_a_secret_and_a_locally_made_svg_qr_code(authed, user):
    response = authed.post(ENROL)
    assert response.status_code == 201, response.content
    body = response.json()
    assert pyotp.TOTP(body["secret"]).now().isdigit()
    assert body["otpauth_uri"].startswith("otpauth://totp/cryptocast:")
    assert "secret=" + body["secret"] in body["otpauth_uri"]
    assert body["qr_svg"].lstrip().startswith("<?xml") and "<svg" in body["qr_svg"]
    # not on until confirmed: sign-in still hands out tokens
    assert authed.get(ENROL).json() == {"totp_enabled": False, "recovery_codes_left": 0}


def test_signin_gives_tokens_until_enrolment_is_confirmed(authed, user, signin):
    authed.post(ENROL)
    assert "access" in signin(user.email).json()


def test_confirm_with_a_wrong_code_is_refused_and_counted_toward_the_lockout(authed, user):
    authed.post(ENROL)
    response = authed.post(CONFIRM, {"code": "000000"}, format="json")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_mfa_code"
    assert AccessAttempt.objects.get(username=user.email).failures_since_start == 1
    assert not TotpDevice.objects.get(user=user).confirmed_at


def test_confirm_turns_2fa_on_and_shows_hashed_recovery_codes_once(authed, user):
    totp = pyotp.TOTP(authed.post(ENROL).json()["secret"])
    response = authed.post(CONFIRM, {"code": totp.now()}, format="json")
    assert response.status_code == 200
    codes = response.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(RecoveryCode.objects.filter(user=user).values_list("digest", flat=True))
    assert not stored & set(codes)  # digests only
    assert authed.get(ENROL).json() == {"totp_enabled": True, "recovery_codes_left": 10}
    # a second enrolment is refused while 2FA is on
    assert authed.post(ENROL).status_code == 409


def test_mfa_endpoints_need_a_signed_in_user_and_not_an_api_key(api_client, user):
    assert api_client.post(ENROL).status_code == 401
    assert api_client.post(CONFIRM, {"code": "123456"}, format="json").status_code == 401
    _, raw = services.api_key_create(user=user, name="script")
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.post(ENROL).status_code == 403
    assert api_client.post(RECOVERY, {"password": PASSWORD}, format="json").status_code == 403


# --- sign-in ------------------------------------------------------------------------------------
def test_signin_answers_mfa_required_with_a_challenge_and_no_tokens(enabled, user, signin):
    body = signin(user.email).json()
    assert body["mfa_required"] is True
    assert "access" not in body and "refresh" not in body
    assert body["methods"] == ["totp", "recovery_code"]
    assert 0 < body["expires_in"] <= 300


def test_challenge_and_code_give_a_working_token_pair(enabled, user, signin, api_client):
    totp, _ = enabled
    with time_machine.travel(timezone.now() + STEP, tick=False):
        challenge = signin(user.email).json()["challenge"]
        response = api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": totp.now()}, format="json"
        )
        assert response.status_code == 200, response.content
        pair = response.json()
        me = api_client.get("/api/v1/auth/me", HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
        assert me.status_code == 200
    assert AuditEvent.objects.filter(user=user, action="signin", outcome="success").exists()


def test_a_code_works_once_even_within_its_window(enabled, user, signin, api_client):
    totp, _ = enabled
    with time_machine.travel(timezone.now() + STEP, tick=False):
        code = totp.now()
        first = signin(user.email).json()["challenge"]
        assert (
            api_client.post(SIGNIN_MFA, {"challenge": first, "code": code}, format="json")
        ).status_code == 200
        second = signin(user.email).json()["challenge"]
        replay = api_client.post(SIGNIN_MFA, {"challenge": second, "code": code}, format="json")
        assert replay.status_code == 401
        assert replay.json()["errors"][0]["code"] == "invalid_mfa_code"


def test_the_code_that_confirmed_enrolment_cannot_sign_in(authed, user, signin, api_client):
    with time_machine.travel(timezone.now(), tick=False):
        totp = pyotp.TOTP(authed.post(ENROL).json()["secret"])
        code = totp.now()
        authed.post(CONFIRM, {"code": code}, format="json")
        authed.credentials()
        challenge = signin(user.email).json()["challenge"]
        response = api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": code}, format="json"
        )
        assert response.status_code == 401


def test_a_challenge_works_once(enabled, user, signin, api_client):
    totp, _ = enabled
    now = timezone.now()
    with time_machine.travel(now + STEP, tick=False):
        challenge = signin(user.email).json()["challenge"]
        assert (
            api_client.post(
                SIGNIN_MFA, {"challenge": challenge, "code": totp.now()}, format="json"
            ).status_code
            == 200
        )
    with time_machine.travel(now + 3 * STEP, tick=False):
        again = api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": totp.now()}, format="json"
        )
        assert again.status_code == 401
        assert again.json()["errors"][0]["code"] == "invalid_mfa_challenge"


def test_an_expired_or_made_up_challenge_is_refused(enabled, user, signin, api_client, settings):
    totp, _ = enabled
    challenge = signin(user.email).json()["challenge"]
    later = timezone.now() + timedelta(seconds=settings.MFA_CHALLENGE_TTL_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        response = api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": totp.now()}, format="json"
        )
        assert response.status_code == 401
    made_up = api_client.post(
        SIGNIN_MFA, {"challenge": "x" * 43, "code": totp.now()}, format="json"
    )
    assert made_up.json()["errors"][0]["code"] == "invalid_mfa_challenge"


def test_signin_mfa_names_missing_fields(api_client):
    response = api_client.post(SIGNIN_MFA, {"challenge": "abc"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "code"


def test_a_recovery_code_signs_in_once(enabled, user, signin, api_client):
    _, codes = enabled
    challenge = signin(user.email).json()["challenge"]
    ok = api_client.post(
        SIGNIN_MFA, {"challenge": challenge, "code": codes[0].upper()}, format="json"
    )
    assert ok.status_code == 200
    challenge = signin(user.email).json()["challenge"]
    again = api_client.post(SIGNIN_MFA, {"challenge": challenge, "code": codes[0]}, format="json")
    assert again.status_code == 401
    assert services.recovery_codes_left(user=user) == 9


def test_wrong_codes_lock_the_account_and_then_even_a_right_code_waits(
    enabled, user, signin, api_client, settings
):
    totp, _ = enabled
    challenge = signin(user.email).json()["challenge"]
    statuses = [
        api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": "000000"}, format="json"
        ).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[:-1] == [401] * (settings.AXES_FAILURE_LIMIT - 1)
    assert statuses[-1] == 429
    with time_machine.travel(timezone.now() + STEP, tick=False):
        locked = api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": totp.now()}, format="json"
        )
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert locked.json()["errors"][0]["code"] == "account_locked"
    assert AuditEvent.objects.filter(user=user, action="signin.locked").exists()


# --- turning off, new recovery codes ------------------------------------------------------------
def test_disable_needs_a_fresh_code_or_the_password(enabled, user, api_client, pair):
    _bearer(api_client, pair)
    assert api_client.delete(ENROL, {}, format="json").status_code == 400
    wrong = api_client.delete(ENROL, {"password": "wrong-password-xx"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["attr"] == "password"
    assert api_client.delete(ENROL, {"code": "000000"}, format="json").status_code == 401
    assert services.mfa_enabled(user)
    assert api_client.delete(ENROL, {"password": PASSWORD}, format="json").status_code == 204
    assert not services.mfa_enabled(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(user=user, action="mfa.disabled").exists()


def test_regenerated_recovery_codes_replace_the_old_ones(enabled, user, api_client, pair, signin):
    totp, old = enabled
    _bearer(api_client, pair)
    with time_machine.travel(timezone.now() + STEP, tick=False):
        response = api_client.post(RECOVERY, {"code": totp.now()}, format="json")
    assert response.status_code == 200
    new = response.json()["recovery_codes"]
    assert not set(new) & set(old)
    api_client.credentials()
    challenge = signin(user.email).json()["challenge"]
    assert (
        api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": old[0]}, format="json"
        ).status_code
        == 401
    )
    assert (
        api_client.post(
            SIGNIN_MFA, {"challenge": challenge, "code": new[0]}, format="json"
        ).status_code
        == 200
    )


def test_recovery_codes_need_2fa_on(authed):
    response = authed.post(RECOVERY, {"password": PASSWORD}, format="json")
    assert response.status_code == 409


# --- Google, browser, admin ---------------------------------------------------------------------
def test_a_2fa_users_google_sign_in_also_asks_for_the_code(api_client, google):
    first = api_client.post(
        "/api/v1/auth/oauth/google/mobile", {"id_token": google.id_token()}, format="json"
    )
    assert "access" in first.json()
    from accounts.models import User

    gina = User.objects.get(email="gina@example.com")
    enrolment = services.totp_enrol(user=gina)
    TotpDevice.objects.filter(user=gina).update(confirmed_at=timezone.now())
    second = api_client.post(
        "/api/v1/auth/oauth/google/mobile", {"id_token": google.id_token()}, format="json"
    ).json()
    assert second["mfa_required"] is True and "access" not in second
    response = api_client.post(
        SIGNIN_MFA,
        {"challenge": second["challenge"], "code": pyotp.TOTP(enrolment.secret).now()},
        format="json",
    )
    assert response.status_code == 200
    from accounts.models import TokenFamily

    assert TokenFamily.objects.filter(user=gina, method="google").count() == 2


def _enable_for(user):  # type: ignore[no-untyped-def]
    enrolment = services.totp_enrol(user=user)
    TotpDevice.objects.filter(user=user).update(confirmed_at=timezone.now())
    return pyotp.TOTP(enrolment.secret)


def test_browser_sign_in_asks_a_2fa_user_for_a_code(client, user, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    totp = _enable_for(user)
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/"
    assert "_auth_user_id" not in client.session
    page = client.get("/accounts/2fa/")
    assert page.status_code == 200 and b'name="code"' in page.content
    wrong = client.post("/accounts/2fa/", {"code": "000000"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username=user.email).failures_since_start == 1
    ok = client.post("/accounts/2fa/", {"code": totp.now()})
    assert ok.status_code == 302
    assert client.session.get("_auth_user_id") == str(user.pk)


def test_browser_code_page_without_a_pending_login_goes_back_to_sign_in(client):
    response = client.get("/accounts/2fa/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_admin_sign_in_of_a_2fa_staff_member_needs_the_code(client, staff_user):
    totp = _enable_for(staff_user)
    login = {"username": staff_user.email, "password": PASSWORD}
    page = client.get("/admin/login/")
    assert b'name="otp_code"' in page.content
    refused = client.post("/admin/login/?next=/admin/", login)
    assert refused.status_code == 200 and "_auth_user_id" not in client.session
    ok = client.post("/admin/login/?next=/admin/", {**login, "otp_code": totp.now()})
    assert ok.status_code == 302
    assert client.session.get("_auth_user_id") == str(staff_user.pk)


def test_staff_without_2fa_are_refused_by_the_admin_when_required(client, staff_user, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff_user.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert b"Two-factor authentication is required" in response.content
    assert "_auth_user_id" not in client.session
