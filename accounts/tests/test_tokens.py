"""JWT rules: rotation, reuse detection, logout, password change, deactivation, races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import structlog
import time_machine
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from accounts import services
from accounts.models import RefreshTokenRecord, TokenFamily

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def refresh(api_client, token):
    return api_client.post("/api/v1/auth/refresh", {"refresh": token}, format="json")


def me(api_client, access):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    try:
        return api_client.get("/api/v1/auth/me")
    finally:
        api_client.credentials()


def test_refresh_rotates_and_the_old_token_dies(api_client, pair):
    first = refresh(api_client, pair["refresh"])
    assert first.status_code == 200
    new = first.json()
    assert new["refresh"] != pair["refresh"]
    assert me(api_client, new["access"]).status_code == 200
    # the rotated token is dead (and simplejwt's blacklist agrees)
    assert refresh(api_client, pair["refresh"]).status_code == 401
    assert BlacklistedToken.objects.count() >= 1


def test_reuse_of_a_rotated_token_revokes_the_whole_family(api_client, pair, user):
    second = refresh(api_client, pair["refresh"]).json()
    third = refresh(api_client, second["refresh"]).json()
    with structlog.testing.capture_logs() as logs:
        reused = refresh(api_client, pair["refresh"])
    assert reused.status_code == 401
    assert reused.json()["errors"][0]["code"] == "token_revoked"
    family = TokenFamily.objects.get(user=user)
    assert family.revoke_reason == TokenFamily.Reason.REUSE
    # every descendant is dead: the latest refresh and the latest access token
    assert refresh(api_client, third["refresh"]).status_code == 401
    assert me(api_client, third["access"]).status_code == 401
    events = [e for e in logs if e["event"] == "refresh_token_reuse"]
    assert len(events) == 1
    assert events[0]["family_id"] == str(family.id)
    logged = repr(logs)
    assert pair["refresh"] not in logged and third["refresh"] not in logged


def test_reuse_does_not_touch_other_sign_ins(api_client, user, signin):
    laptop = signin(user.email).json()
    phone = signin(user.email).json()
    refresh(api_client, laptop["refresh"])
    refresh(api_client, laptop["refresh"])  # reuse on the laptop family
    assert refresh(api_client, phone["refresh"]).status_code == 200


def test_logout_revokes_the_family_including_access_tokens(api_client, pair):
    response = api_client.post("/api/v1/auth/logout", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    assert refresh(api_client, pair["refresh"]).status_code == 401
    assert me(api_client, pair["access"]).status_code == 401


def test_logout_with_a_forged_token_is_refused(api_client, pair):
    forged = pair["refresh"][:-4] + "AAAA"
    response = api_client.post("/api/v1/auth/logout", {"refresh": forged}, format="json")
    assert response.status_code == 401


def test_access_token_is_not_a_refresh_token(api_client, pair):
    assert refresh(api_client, pair["access"]).status_code == 401


def test_password_change_revokes_every_refresh_token(api_client, user, signin):
    old_a = signin(user.email).json()
    old_b = signin(user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {old_a['access']}")
    response = api_client.put(
        "/api/v1/auth/me/password",
        {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-7"},
        format="json",
    )
    api_client.credentials()
    assert response.status_code == 200, response.content
    fresh = response.json()
    for old in (old_a, old_b):
        assert refresh(api_client, old["refresh"]).status_code == 401
        assert me(api_client, old["access"]).status_code == 401
    assert me(api_client, fresh["access"]).status_code == 200
    assert signin(user.email, password="a-brand-new-passphrase-7").status_code == 200


def test_password_change_with_wrong_current_password_changes_nothing(api_client, pair, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.put(
        "/api/v1/auth/me/password",
        {"current_password": "not-my-password-1", "new_password": "a-brand-new-passphrase-7"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "current_password"
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert refresh(api_client, pair["refresh"]).status_code == 200


def test_password_change_enforces_the_policy(api_client, pair):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.put(
        "/api/v1/auth/me/password",
        {"current_password": PASSWORD, "new_password": "short"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "new_password"


def test_deactivated_user_tokens_stop_on_next_request(api_client, pair, user):
    assert me(api_client, pair["access"]).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert me(api_client, pair["access"]).status_code == 401
    assert refresh(api_client, pair["refresh"]).status_code == 401


def test_expired_refresh_token_is_refused(api_client, pair, settings):
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]
    with time_machine.travel(lifetime + timedelta(minutes=1)):
        assert refresh(api_client, pair["refresh"]).status_code == 401


def test_expired_access_token_is_refused(api_client, pair, settings):
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel(lifetime + timedelta(seconds=5)):
        assert me(api_client, pair["access"]).status_code == 401


def test_token_lifetimes_stay_within_policy(settings):
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=15)
    assert settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] <= timedelta(days=7)
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY


def test_verify_token(api_client, pair, user):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    ok = api_client.get("/api/v1/auth/verify-token")
    assert ok.status_code == 200
    assert ok.json()["user_id"] == user.pk
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")
    assert api_client.get("/api/v1/auth/verify-token").status_code == 401
    api_client.credentials()
    assert api_client.get("/api/v1/auth/verify-token").status_code == 401


def test_system_check_fails_when_rotation_is_on_without_the_blacklist_app(settings):
    settings.INSTALLED_APPS = [
        a for a in settings.INSTALLED_APPS if a != "rest_framework_simplejwt.token_blacklist"
    ]
    from accounts.checks import jwt_settings_check

    assert [e.id for e in jwt_settings_check(None)] == ["accounts.E001"]


def test_system_check_fails_when_the_jwt_key_is_the_secret_key(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": settings.SECRET_KEY}
    with pytest.raises(SystemCheckError):
        call_command("check")


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_with_the_same_token_exactly_one_wins(make_user):
    if connection.vendor == "sqlite":
        pytest.skip("needs PostgreSQL row locking (SQLite serialises every writer anyway)")
    user = make_user(email="race@example.com")
    first = services.token_pair_issue(user=user)
    barrier = threading.Barrier(2)
    results: list[object] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            try:
                outcome: object = services.token_refresh(raw=first.refresh)
            except services.TokenRejected as exc:
                outcome = exc
            with lock:
                results.append(outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [r for r in results if isinstance(r, services.TokenPair)]
    losers = [r for r in results if isinstance(r, services.TokenRejected)]
    assert len(winners) == 1 and len(losers) == 1, results
    assert RefreshTokenRecord.objects.filter(used_at__isnull=False).count() == 1
    # the loser presented a rotated token: treated as reuse, the family is revoked
    assert TokenFamily.objects.get().revoke_reason == TokenFamily.Reason.REUSE


def test_purge_task_drops_expired_records_and_is_idempotent(user, settings):
    from accounts.tasks import purge_expired

    services.token_pair_issue(user=user)
    services.ws_ticket_issue(user=user)
    nothing = {
        "codes": 0,
        "mfa_challenges": 0,
        "refresh_tokens": 0,
        "accounts_anonymised": 0,
        "data_exports": 0,
        "audit_events": 0,
        "mails": 0,
    }
    assert purge_expired() == nothing
    later = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] + timedelta(minutes=1)
    with time_machine.travel(later):
        first = purge_expired()
        assert first["codes"] == 1 and first["refresh_tokens"] == 1
        assert purge_expired() == nothing
    assert not TokenFamily.objects.exists()
