"""django-axes lockout (database handler) on every login path: JWT sign-in, allauth, admin.

The design (SECURITY.md): locks per (account, address) pair, a soft per-account cap over all
addresses, refused attempts never count, a password reset clears the account's failures."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


def _assert_locked(response, settings) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 429, response.content
    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    # counted from the failures just made (a loaded machine may take a few seconds)
    assert cooloff - 10 <= int(response["Retry-After"]) <= cooloff


def test_signin_locks_the_account_and_address_pair(signin, user, limit, settings):
    for _ in range(limit - 1):
        assert signin(user.email, password="wrong-password-xx", ip="10.0.0.1").status_code == 401
    locking = signin(user.email, password="wrong-password-xx", ip="10.0.0.1")
    _assert_locked(locking, settings)
    locked = signin(user.email, password=PASSWORD, ip="10.0.0.1")
    _assert_locked(locked, settings)
    body = locked.json()
    assert body["type"] == "client_error"
    assert body["errors"][0]["code"] == "account_locked"
    assert "request_id" in body
    # it is a database lockout, not a cache counter
    assert AccessAttempt.objects.filter(username=user.email).exists()


def test_distributed_guessing_hits_the_per_account_cap(signin, user, settings):
    """Many addresses guessing at one account: past AXES_ACCOUNT_FAILURE_LIMIT failures (over
    every address, within the cool-off) the account is locked everywhere."""
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 8
    for i in range(7):
        assert (
            signin(user.email, password="wrong-xx-guess", ip=f"10.0.0.{i + 1}").status_code == 401
        )
    _assert_locked(signin(user.email, password="wrong-xx-guess", ip="10.0.1.1"), settings)
    _assert_locked(signin(user.email, password=PASSWORD, ip="10.0.2.2"), settings)


def test_a_stranger_cannot_lock_the_owner_out(signin, user, limit, settings):
    """Finding 5: an attacker's failures lock only the attacker's own (account, address) pair;
    the owner signs in from their address, and the attacker's further attempts, the right
    password included, are refused without counting against the account."""
    statuses = [
        signin(user.email, password="wrong-password-xx", ip="203.0.113.9").status_code
        for _ in range(limit * 3)
    ]
    assert statuses == [401] * (limit - 1) + [429] * (2 * limit + 1)
    assert signin(user.email, ip="198.51.100.7").status_code == 200
    _assert_locked(signin(user.email, ip="203.0.113.9"), settings)  # the pair is still locked
    failures = AccessAttempt.objects.filter(username=user.email).values_list(
        "failures_since_start", flat=True
    )
    assert sum(failures) <= limit  # refused attempts, the right password too, never count


def test_a_locked_shared_address_does_not_lock_its_users_elsewhere(
    signin, user, make_user, limit, settings
):
    """Someone behind the same NAT locks the owner's pair there; the owner still signs in
    from any other network, and their correct password at the shared address is no failure."""
    shared = "192.0.2.50"
    for _ in range(limit):
        signin(user.email, password="wrong-password-xx", ip=shared)
    for _ in range(3):
        _assert_locked(signin(user.email, ip=shared), settings)
    assert signin(user.email, ip="198.51.100.8").status_code == 200
    # other accounts at the shared address are unaffected
    colleague = make_user(email="colleague@example.com")
    assert signin(colleague.email, ip=shared).status_code == 200


def test_password_reset_lets_the_owner_back_in(api_client, signin, user, settings):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    settings.AXES_ACCOUNT_FAILURE_LIMIT = 4
    for i in range(4):
        signin(user.email, password="wrong-password-xx", ip=f"10.8.0.{i + 1}")
    _assert_locked(signin(user.email, ip="10.8.9.9"), settings)
    new = "a-brand-new-passphrase-7"
    confirm = api_client.post(
        "/api/v1/auth/password-reset/confirm",
        {
            "uid": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
            "new_password": new,
        },
        format="json",
    )
    assert confirm.status_code == 200, confirm.content
    assert signin(user.email, password=new, ip="10.8.9.9").status_code == 200
    assert signin(user.email, password=new, ip="10.8.0.1").status_code == 200


def test_lockout_expires_after_the_cooloff(signin, user, limit, settings):
    import time_machine

    for _ in range(limit):
        signin(user.email, password="wrong-password-xx")
    assert signin(user.email).status_code == 429
    with time_machine.travel(settings.AXES_COOLOFF_TIME * 1.1):
        assert signin(user.email).status_code == 200


def test_retry_after_tells_when_the_lock_lifts(signin, user, limit, settings):
    import time_machine
    from django.utils import timezone

    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(limit):
            signin(user.email, password="wrong-password-xx")
        clock.shift(settings.AXES_COOLOFF_TIME / 3)
        probe = signin(user.email)
        assert probe.status_code == 429
        assert int(probe["Retry-After"]) == cooloff - cooloff // 3
        clock.shift(settings.AXES_COOLOFF_TIME * 2 / 3 + settings.AXES_COOLOFF_TIME / 20)
        assert signin(user.email).status_code == 200


def test_retry_after_counts_down_from_the_latest_failure(rf, user, limit, settings):
    import time_machine
    from axes.models import AccessAttempt
    from django.utils import timezone

    from accounts.lockout import lockout_retry_after

    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    with time_machine.travel(timezone.now(), tick=False) as clock:
        AccessAttempt.objects.create(
            username=user.email,
            ip_address="10.0.0.1",
            user_agent="",
            failures_since_start=limit,
            attempt_time=timezone.now(),
        )
        request = rf.post("/api/v1/auth/signin", REMOTE_ADDR="10.0.0.1")
        assert lockout_retry_after(request, {"email": user.email}) == cooloff
        clock.shift(settings.AXES_COOLOFF_TIME / 3)
        assert lockout_retry_after(request, {"email": user.email}) == cooloff - cooloff // 3


def test_successful_signin_clears_only_its_own_pair(signin, user, make_user, limit, settings):
    for _ in range(limit - 1):
        signin(user.email, password="wrong-password-xx", ip="10.3.0.1")
    assert signin(user.email, ip="10.3.0.1").status_code == 200
    for _ in range(limit - 1):
        signin(user.email, password="wrong-password-xx", ip="10.3.0.1")
    assert signin(user.email, ip="10.3.0.1").status_code == 200
    # the owner signing in elsewhere does not hand an attacker's pair fresh guesses
    for _ in range(limit - 1):
        signin(user.email, password="wrong-password-xx", ip="10.4.0.1")
    assert signin(user.email, ip="10.4.1.1").status_code == 200
    _assert_locked(signin(user.email, password="wrong-password-xx", ip="10.4.0.1"), settings)
    # nor can an attacker launder their pair with a sign-in into their own account
    other = make_user(email="mallory@example.com")
    for _ in range(limit - 1):
        signin("target@example.com", password="wrong-password-xx", ip="10.5.5.5")
    assert signin(other.email, ip="10.5.5.5").status_code == 200
    _assert_locked(signin("target@example.com", password="wrong-xx-x", ip="10.5.5.5"), settings)


def test_unknown_accounts_lock_the_same_way_as_known_ones(signin, limit, settings):
    for _ in range(limit):
        signin("ghost@example.com", password="wrong-password-xx", ip="10.9.0.1")
    _assert_locked(signin("ghost@example.com", ip="10.9.0.1"), settings)


def test_admin_login_is_locked_too(client, staff_user, limit, settings):
    for _ in range(limit):
        client.post(
            "/admin/login/?next=/admin/",
            {"username": staff_user.email, "password": "wrong-password-xx"},
            REMOTE_ADDR="10.1.0.1",
        )
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff_user.email, "password": "correct-horse-battery-9"},
        REMOTE_ADDR="10.1.0.1",
    )
    _assert_locked(response, settings)
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username=staff_user.email).exists()


def test_admin_login_works_when_not_locked(client, staff_user):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff_user.email, "password": "correct-horse-battery-9"},
    )
    assert response.status_code == 302
    assert client.session.get("_auth_user_id") == str(staff_user.pk)


def test_allauth_login_view_is_locked_too(client, user, limit, settings):
    # allauth's own cache-based rate limit would refuse first; switch it off to see axes.
    settings.ACCOUNT_RATE_LIMITS = False
    for _ in range(limit):
        client.post(
            "/accounts/login/",
            {"login": user.email, "password": "wrong-password-xx"},
            REMOTE_ADDR="10.2.0.1",
        )
    assert AccessAttempt.objects.filter(username=user.email).exists()
    response = client.post(
        "/accounts/login/", {"login": user.email, "password": PASSWORD}, REMOTE_ADDR="10.2.0.1"
    )
    _assert_locked(response, settings)
    assert b"Too many failed sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_allauth_signup_gets_the_user_role_and_the_password_policy(client, django_user_model):
    weak = client.post(
        "/accounts/signup/",
        {"email": "web@example.com", "password1": "short", "password2": "short"},
    )
    assert weak.status_code == 200  # the form again, with errors
    assert not django_user_model.objects.filter(email="web@example.com").exists()
    ok = client.post(
        "/accounts/signup/",
        {"email": "web@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert ok.status_code == 302
    user = django_user_model.objects.get(email="web@example.com")
    assert list(user.groups.values_list("name", flat=True)) == ["user"]
    assert user.password.startswith("argon2$argon2id$")


def test_password_change_guesses_count_towards_the_lockout(api_client, pair, user, limit, settings):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    body = {"current_password": "guess-guess-guess", "new_password": "a-brand-new-passphrase-7"}
    statuses = [
        api_client.put(
            "/api/v1/auth/me/password", body, format="json", REMOTE_ADDR="10.6.0.1"
        ).status_code
        for i in range(limit)
    ]
    assert statuses[:-1] == [400] * (limit - 1)
    assert statuses[-1] == 429
    right = {**body, "current_password": PASSWORD}
    _assert_locked(
        api_client.put("/api/v1/auth/me/password", right, format="json", REMOTE_ADDR="10.6.0.1"),
        settings,
    )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_token_signin_creates_no_session_and_sets_no_cookie(signin, user):
    """Stock axes created a session (a row and a sessionid cookie) on every API sign-in only
    to hash its key into the access log."""
    from axes.models import AccessLog
    from django.contrib.sessions.models import Session

    response = signin(user.email)
    assert response.status_code == 200 and "access" in response.json()
    assert "sessionid" not in response.cookies
    assert not Session.objects.exists()
    (log,) = AccessLog.objects.filter(username=user.email)
    assert log.session_hash == "" and log.ip_address == "127.0.0.1"


def test_a_session_signin_logs_its_session_hash(user, client):
    import hashlib

    from axes.models import AccessLog

    response = client.post("/signin", {"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    (log,) = AccessLog.objects.filter(username=user.email)
    assert log.session_hash == hashlib.sha256(client.session.session_key.encode()).hexdigest()
