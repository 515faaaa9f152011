"""Account pages over the Django test client: sign-up to sign-out, 2FA, reset, lockout, CSRF.

Mails come from ``mail.outbox`` (the locmem backend): the on-commit enqueue is captured and
the task body runs directly, as in the accounts API tests. TOTP codes are computed with pyotp.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import Client

from accounts.lockout import lockout_seconds
from accounts.models import ApiKey, AuditEvent, User

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-9"
NEW = "a-brand-new-passphrase-7"


@pytest.fixture(autouse=True)
def _fast_argon2(settings):  # type: ignore[no-untyped-def]
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_KIB = 1, 1024


@pytest.fixture(autouse=True)
def _mails_now(task_stub):  # type: ignore[no-untyped-def]
    """The outbox's delivery task body runs at commit instead of a broker round trip."""
    from accounts import tasks

    task_stub("accounts.deliver_mail", lambda *, kwargs, **_: tasks.deliver_mail(**kwargs))


def _api_signin_detail(email: str, password: str) -> tuple[int, str]:
    from rest_framework.test import APIClient

    response = APIClient().post(
        "/api/v1/auth/signin", {"email": email, "password": password}, format="json"
    )
    return response.status_code, response.json()["errors"][0]["detail"]


def _signin(client: Client, email: str, password: str = PASSWORD, **extra):  # type: ignore[no-untyped-def]
    return client.post("/signin", {"email": email, "password": password, **extra})


def _enable_2fa(client: Client) -> tuple[pyotp.TOTP, list[str]]:
    page = client.post("/account/2fa/enrol").content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page and "<?xml" not in page  # the QR code, made locally, inline
    totp = pyotp.TOTP(secret)
    confirmed = client.post("/account/2fa/confirm", {"code": totp.now()})
    assert confirmed.status_code == 200
    codes = re.findall(
        r'<code class="secret">([a-z2-9]{5}-[a-z2-9]{5})</code>', confirmed.content.decode()
    )
    assert len(codes) == 10
    return totp, codes


def _next_code(totp: pyotp.TOTP) -> str:
    """The next time step's code (the current one was spent confirming; a replay is refused)."""
    return totp.at(time.time() + 30)


# --- the whole journey ------------------------------------------------------------------------
def test_signup_verify_signin_keys_password_signout(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/signup", {"email": "New@Example.com", "password": PASSWORD, "display_name": "Nia"}
        )
    assert response.status_code == 302 and response["Location"] == "/signin"
    user = User.objects.get(email="new@example.com")
    assert not user.email_verified and "_auth_user_id" not in client.session

    body = mail.outbox[-1].body
    link = re.search(r"Or open: (\S+)", body).group(1)
    assert "/verify-email#token=" in link  # the token rides in the fragment
    token = link.split("#token=", 1)[1]
    page = client.get("/verify-email")
    assert page.status_code == 200 and b'name="token"' in page.content
    assert b"/static/js/fragment-form.js" in page.content
    verified = client.post("/verify-email", {"token": token})
    assert verified.status_code == 302
    user.refresh_from_db()
    assert user.email_verified

    signed = _signin(client, "new@example.com")
    assert signed.status_code == 302 and signed["Location"] == "/"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert AuditEvent.objects.filter(user=user, action="signin", outcome="success").exists()

    account = client.get("/account")
    html = account.content.decode()
    assert account.status_code == 200 and "new@example.com" in html
    assert account["Cache-Control"] == "no-store"
    nav = client.get("/").content.decode()
    assert 'href="/account"' in nav and 'action="/signout"' in nav and 'href="/signin"' not in nav

    created = client.post("/account/api-keys", {"name": "my script"})
    assert created.status_code == 201
    raw = re.search(r'id="new-api-key-value">(cc_[^<]+)<', created.content.decode()).group(1)
    key = ApiKey.objects.get(user=user)
    assert key.name == "my script" and raw.startswith(f"cc_{key.prefix}_")
    again = client.get("/account").content.decode()
    assert raw not in again and key.prefix in again  # shown once
    api = Client().get("/api/v1/auth/api-keys", HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api.status_code == 200

    revoked = client.post(f"/account/api-keys/{key.pk}/revoke")
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert (
        Client().get("/api/v1/auth/api-keys", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code
        == 401
    )

    wrong = client.post(
        "/account/password", {"current_password": "not-it-at-all-1", "new_password": NEW}
    )
    assert wrong.status_code == 400 and "The current password is wrong." in wrong.content.decode()
    changed = client.post("/account/password", {"current_password": PASSWORD, "new_password": NEW})
    assert changed.status_code == 302
    assert client.get("/account").status_code == 200  # this session survives the change
    user.refresh_from_db()
    assert user.check_password(NEW)

    assert client.get("/signout").status_code == 405  # POST only
    out = client.post("/signout")
    assert out.status_code == 302 and "_auth_user_id" not in client.session
    assert client.get("/account")["Location"] == "/signin?next=/account"
    assert _signin(client, "new@example.com", NEW).status_code == 302


def test_signup_errors_are_the_apis(client, user):
    taken = client.post("/signup", {"email": user.email, "password": PASSWORD})
    assert taken.status_code == 400
    assert "An account with this e-mail already exists." in taken.content.decode()
    short = client.post("/signup", {"email": "s@example.com", "password": "short"})
    assert "This password is too short." in short.content.decode()


def test_wrong_password_text_equals_the_apis(client, user):
    status, detail = _api_signin_detail(user.email, "wrong-password-123")
    assert status == 401 and detail == "Invalid e-mail or password."
    response = _signin(client, user.email, "wrong-password-123")
    assert response.status_code == 401
    assert detail in response.content.decode()
    unknown = _signin(client, "nobody@example.com", "wrong-password-123")
    assert unknown.status_code == 401 and detail in unknown.content.decode()


def test_lockout_answers_429_with_retry_after(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        _signin(client, user.email, "wrong-password-123")
    locked = _signin(client, user.email, PASSWORD)  # even the right password now
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    assert "Too many failed sign-in attempts; try again later." in locked.content.decode()
    assert "_auth_user_id" not in client.session


# --- 2FA ----------------------------------------------------------------------------------------
def test_2fa_sign_in_with_a_totp_code_then_with_a_recovery_code(client, user):
    client.force_login(user)
    totp, codes = _enable_2fa(client)
    client.post("/signout")

    first = _signin(client, user.email, next="/watchlists")
    assert first.status_code == 302 and first["Location"] == "/signin/code"
    assert "_auth_user_id" not in client.session
    page = client.get("/signin/code")
    assert page.status_code == 200 and b'name="code"' in page.content
    wrong = client.post("/signin/code", {"code": "000000"})
    assert wrong.status_code == 401 and "Invalid or already used code." in wrong.content.decode()
    assert AccessAttempt.objects.get(username=user.email).failures_since_start == 1
    ok = client.post("/signin/code", {"code": _next_code(totp)})
    assert ok.status_code == 302 and ok["Location"] == "/watchlists"
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not AccessAttempt.objects.filter(username=user.email).exists()  # reset on success

    client.post("/signout")
    _signin(client, user.email)
    by_code = client.post("/signin/code", {"code": codes[0].upper()})
    assert by_code.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    client.post("/signout")
    _signin(client, user.email)
    reused = client.post("/signin/code", {"code": codes[0]})
    assert reused.status_code == 401 and "_auth_user_id" not in client.session


def test_2fa_code_page_without_a_challenge_goes_back(client):
    response = client.get("/signin/code")
    assert response.status_code == 302 and response["Location"] == "/signin"


def test_2fa_wrong_codes_lock_the_account(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 2
    client.force_login(user)
    _totp, _ = _enable_2fa(client)
    client.post("/signout")
    _signin(client, user.email)
    client.post("/signin/code", {"code": "000000"})
    locked = client.post("/signin/code", {"code": "111111"})
    assert locked.status_code == 429 and "Retry-After" in locked
    assert "_auth_user_id" not in client.session


def test_2fa_regenerate_and_disable(client, user):
    client.force_login(user)
    totp, codes = _enable_2fa(client)
    regen = client.post("/account/2fa/recovery-codes", {"regen-password": PASSWORD})
    fresh = re.findall(
        r'<code class="secret">([a-z2-9]{5}-[a-z2-9]{5})</code>', regen.content.decode()
    )
    assert regen.status_code == 200 and len(fresh) == 10 and set(fresh).isdisjoint(codes)
    empty = client.post("/account/2fa/disable", {})
    assert (
        "A current code (or recovery code) or the password is required." in empty.content.decode()
    )
    bad = client.post("/account/2fa/disable", {"disable-password": "wrong-password-123"})
    assert bad.status_code == 400 and "The password is wrong." in bad.content.decode()
    off = client.post("/account/2fa/disable", {"disable-code": _next_code(totp)})
    assert off.status_code == 302
    from accounts.services import mfa_enabled

    assert not mfa_enabled(user)


def test_a_wrong_first_code_keeps_the_same_enrolment(client, user):
    client.force_login(user)
    page = client.post("/account/2fa/enrol").content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post("/account/2fa/confirm", {"code": "000000"})
    assert wrong.status_code == 401 and "Invalid or already used code." in wrong.content.decode()
    assert secret in wrong.content.decode()  # the same QR code and secret, shown again


# --- reset, next, CSRF --------------------------------------------------------------------------
def test_password_reset_end_to_end(client, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/password-reset", {"email": user.email}, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        unknown = client.post("/password-reset", {"email": "ghost@example.com"}, follow=True)
    sent = "If an account exists for this e-mail, a reset link has been sent."
    assert sent in known.content.decode() and sent in unknown.content.decode()
    assert [m.to for m in mail.outbox] == [[user.email]]
    link = re.search(r"Or open: (\S+)", mail.outbox[-1].body).group(1)
    fragment = link.split("/reset-password#", 1)[1]
    fields = dict(part.split("=", 1) for part in fragment.split("&"))
    page = client.get("/reset-password")
    assert b'name="uid"' in page.content and b'name="token"' in page.content
    bad = client.post("/reset-password", {**fields, "token": "nope-nope", "new_password": NEW})
    assert bad.status_code == 400 and "Invalid or expired reset link." in bad.content.decode()
    done = client.post("/reset-password", {**fields, "new_password": NEW})
    assert done.status_code == 302 and done["Location"] == "/signin"
    assert _signin(client, user.email, NEW).status_code == 302
    replay = Client().post("/reset-password", {**fields, "new_password": "yet-another-pass-42"})
    assert "Invalid or expired reset link." in replay.content.decode()


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "http://testserver.evil/", "javascript:alert(1)"],
)
def test_unsafe_next_is_ignored(client, user, target):
    page = client.get("/signin", {"next": target}).content.decode()
    assert "evil" not in page and "javascript" not in page
    response = _signin(client, user.email, next=target)
    assert response.status_code == 302 and response["Location"] == "/"


def test_safe_next_is_followed(client, user):
    response = _signin(client, user.email, next="/alerts?x=1")
    assert response["Location"] == "/alerts?x=1"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/signin", {"email": "alice@example.com", "password": PASSWORD}),
        ("/signup", {"email": "z@example.com", "password": PASSWORD}),
        ("/password-reset", {"email": "alice@example.com"}),
        ("/signout", {}),
    ],
)
def test_csrf_is_enforced(user, path, data):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(path, data).status_code == 403
    assert "_auth_user_id" not in strict.session


def test_csrf_is_enforced_on_account_forms(user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post("/account/api-keys", {"name": "x"}).status_code == 403
    assert strict.post("/account/delete", {"password": PASSWORD}).status_code == 403
    assert not ApiKey.objects.exists()


def test_signin_with_the_forms_csrf_token(user):
    strict = Client(enforce_csrf_checks=True)
    page = strict.get("/signin").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = strict.post(
        "/signin", {"email": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


# --- profile, Google, deletion, staff -----------------------------------------------------------
def test_profile_update(client, user):
    client.force_login(user)
    assert client.post("/account/profile", {"display_name": "Alice A."}).status_code == 302
    user.refresh_from_db()
    assert user.display_name == "Alice A."


def test_google_link_shown_and_unlinked(client, user, settings):
    from allauth.socialaccount.models import SocialAccount

    settings.GOOGLE_OAUTH_CLIENT_ID = "web.apps.googleusercontent.com"
    assert b"Sign in with Google" in client.get("/signin").content
    SocialAccount.objects.create(
        user=user, provider="google", uid="g-1", extra_data={"email": user.email, "name": "Al"}
    )
    client.force_login(user)
    assert b"Unlink Google" in client.get("/account").content
    assert client.post("/account/google/unlink").status_code == 302
    assert not SocialAccount.objects.filter(user=user).exists()


def test_no_google_link_when_not_configured(client, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    assert b"Sign in with Google" not in client.get("/signin").content


def test_delete_account_needs_the_password(client, user):
    client.force_login(user)
    wrong = client.post("/account/delete", {"password": "wrong-password-123"})
    assert wrong.status_code == 400 and "The password is wrong." in wrong.content.decode()
    user.refresh_from_db()
    assert user.is_active
    done = client.post("/account/delete", {"password": PASSWORD})
    assert done.status_code == 302 and "_auth_user_id" not in client.session
    user.refresh_from_db()
    assert not user.is_active


def test_staff_see_admin_and_ops_links(client, user, staff_user):
    client.force_login(user)
    assert b'href="/admin/"' not in client.get("/account").content
    client.force_login(staff_user)
    html = client.get("/account").content.decode()
    assert 'href="/admin/"' in html and 'href="/health/api"' in html
    assert 'href="/health/trends"' in html


def test_anonymous_nav_offers_sign_in_and_sign_up(client):
    html = client.get("/").content.decode()
    assert 'href="/signin"' in html and 'href="/signup"' in html
    assert 'action="/signout"' not in html


def test_lockout_seconds_is_what_retry_after_is_bounded_by(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 1
    _signin(client, user.email, "wrong-password-123")
    locked = _signin(client, user.email, PASSWORD)
    assert 0 < int(locked["Retry-After"]) <= lockout_seconds()


def test_auth_forms_share_the_apis_throttle(client, monkeypatch):
    from core.throttling import ScopedRateThrottle

    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"auth": "2/min"})
    assert client.post("/password-reset", {"email": "a@example.com"}).status_code == 302
    assert client.post("/password-reset", {"email": "a@example.com"}).status_code == 302
    third = client.post("/password-reset", {"email": "a@example.com"})
    assert third.status_code == 429 and int(third["Retry-After"]) > 0
    assert "Request was throttled." in third.content.decode()
    assert client.get("/password-reset").status_code == 200  # reading is not counted
