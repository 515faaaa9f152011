"""The audit log: written for every sensitive action, readable by its owner only, never a
secret in it, append-only, cleaned up after the retention period."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.utils import timezone

from accounts import services
from accounts.models import AuditEvent

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

AUDIT = "/api/v1/auth/me/audit"


def _actions(user) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        AuditEvent.objects.filter(user=user).order_by("id").values_list("action", flat=True)
    )


def test_sign_in_success_failure_and_lockout_are_recorded(signin, user, settings):
    signin(user.email, password="wrong-password-xx", ip="10.0.0.1")
    signin(user.email, ip="10.0.0.2")
    failure = AuditEvent.objects.get(user=user, action="signin", outcome="failure")
    assert str(failure.ip) == "10.0.0.1"
    assert AuditEvent.objects.filter(user=user, action="signin", outcome="success").exists()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        signin(user.email, password="wrong-password-xx", ip="10.0.1.1")
    assert AuditEvent.objects.filter(user=user, action="signin.locked").exists()


def test_unknown_email_failures_are_recorded_without_the_email(signin):
    signin("nobody@example.com", password="wrong-password-xx")
    event = AuditEvent.objects.get(action="signin", outcome="failure")
    assert event.user is None
    assert "nobody" not in json.dumps(event.data)


def test_every_sensitive_action_leaves_a_row_and_no_secret(api_client, user, signin):
    """Run the flows that handle secrets, then grep the whole table for every one of them."""
    secrets: list[str] = [PASSWORD, "wrong-password-xx", "new-password-horse-77"]
    signin(user.email, password="wrong-password-xx")
    pair = signin(user.email).json()
    secrets += [pair["access"], pair["refresh"]]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    key = api_client.post("/api/v1/auth/api-keys", {"name": "script"}, format="json").json()
    secrets.append(key["key"])
    api_client.delete(f"/api/v1/auth/api-keys/{key['id']}")
    enrol = api_client.post("/api/v1/auth/mfa/totp").json()
    secrets.append(enrol["secret"])
    totp = pyotp.TOTP(enrol["secret"])
    code = totp.now()
    secrets.append(code)
    codes = api_client.post("/api/v1/auth/mfa/totp/confirm", {"code": code}, format="json").json()[
        "recovery_codes"
    ]
    secrets += codes
    changed = api_client.put(
        "/api/v1/auth/me/password",
        {"current_password": PASSWORD, "new_password": "new-password-horse-77"},
        format="json",
    ).json()
    secrets += [changed["access"], changed["refresh"]]
    api_client.credentials()
    challenge = signin(user.email, password="new-password-horse-77").json()["challenge"]
    secrets.append(challenge)
    api_client.post(
        "/api/v1/auth/signin/mfa", {"challenge": challenge, "code": codes[1]}, format="json"
    )
    api_client.post(
        "/api/v1/auth/signin/mfa", {"challenge": challenge, "code": "123456"}, format="json"
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {changed['access']}")
    api_client.delete("/api/v1/auth/mfa/totp", {"password": "new-password-horse-77"}, format="json")
    api_client.delete("/api/v1/auth/me")

    actions = set(_actions(user))
    assert {
        "signin",
        "signin.mfa_required",
        "api_key.created",
        "api_key.revoked",
        "mfa.enabled",
        "password.changed",
        "mfa.disabled",
        "account.deactivated",
    } <= actions
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    for secret in secrets:
        assert secret not in dump, secret[:12]


def test_audit_data_drops_keys_that_look_like_secrets(user):
    event = services.audit_record(
        action="test", user=user, data={"password": "p", "api_key": "k", "name": "ok", "n": 3}
    )
    assert event.data == {"name": "ok", "n": 3}


def test_audit_events_are_append_only(user):
    event = services.audit_record(action="test", user=user)
    event.action = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_me_audit_lists_only_my_events_newest_first(api_client, user, make_user, signin):
    other = make_user(email="other@example.com")
    services.audit_record(action="other.thing", user=other)
    signin(user.email, password="wrong-password-xx")
    pair = signin(user.email).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.get(AUDIT)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["action"], r["outcome"]) for r in results] == [
        ("signin", "success"),
        ("signin", "failure"),
    ]
    assert "other.thing" not in json.dumps(results)


def test_me_audit_needs_sign_in_and_is_bounded(api_client, user, django_assert_num_queries):
    assert api_client.get(AUDIT).status_code == 401
    for i in range(30):
        services.audit_record(action=f"test.{i}", user=user)
    access = services.token_pair_issue(user=user).access
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    with django_assert_num_queries(2):  # the JWT user + one page
        response = api_client.get(AUDIT, {"page_size": 10})
    body = response.json()
    assert len(body["results"]) == 10 and body["next"]
    assert len(api_client.get(AUDIT, {"page_size": 100000}).json()["results"]) == 30


def test_retention_clean_up_deletes_only_old_rows(user, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        services.audit_record(action="old", user=user)
    services.audit_record(action="new", user=user)
    assert services.audit_events_purge() == 1
    assert _actions(user) == ["new"]


def test_audit_admin_is_read_only_and_filterable(admin_client, user):
    services.audit_record(action="signin", user=user, outcome="failure")
    listing = admin_client.get("/admin/accounts/auditevent/?outcome__exact=failure")
    assert listing.status_code == 200 and b"signin" in listing.content
    assert admin_client.get("/admin/accounts/auditevent/add/").status_code == 403
    event = AuditEvent.objects.get()
    page = admin_client.get(f"/admin/accounts/auditevent/{event.pk}/change/")
    assert page.status_code == 200
    admin_client.post(f"/admin/accounts/auditevent/{event.pk}/change/", {"action": "x"})
    assert AuditEvent.objects.get().action == "signin"


def test_a_forged_forwarded_for_value_is_not_taken_for_the_client_ip(api_client, user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    api_client.post(
        "/api/v1/auth/signin",
        {"email": user.email, "password": "wrong-password-xx"},
        format="json",
        HTTP_X_FORWARDED_FOR="not-an-ip",
    )
    event = AuditEvent.objects.get(action="signin", outcome="failure")
    assert str(event.ip) == "127.0.0.1"  # the proxy's own address, never the forged text
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username=user.email).ip_address == "127.0.0.1"


def test_staff_enrolment_and_ops_rows_hold_no_secret(api_client, make_user, settings):
    """The newer rows (staff 2FA enrolment under MFA_REQUIRED_FOR_STAFF, core's ops actions
    through the staff_action hook) grepped for every secret the flow handled."""
    settings.MFA_REQUIRED_FOR_STAFF = True
    staff = make_user(email="ops@example.com")
    services.user_role_set(user=staff, role="staff")
    signin = {"email": staff.email, "password": PASSWORD}
    enrol = api_client.post("/api/v1/auth/signin", signin, format="json").json()
    secrets = [PASSWORD, enrol["enrol_token"]]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {enrol['enrol_token']}")
    secret = api_client.post("/api/v1/auth/mfa/totp").json()["secret"]
    totp = pyotp.TOTP(secret)
    code = totp.now()
    codes = api_client.post("/api/v1/auth/mfa/totp/confirm", {"code": code}, format="json").json()[
        "recovery_codes"
    ]
    secrets += [secret, code, *codes]
    api_client.credentials()
    challenge = api_client.post("/api/v1/auth/signin", signin, format="json").json()["challenge"]
    pair = api_client.post(
        "/api/v1/auth/signin/mfa", {"challenge": challenge, "code": codes[0]}, format="json"
    ).json()
    secrets += [challenge, pair["access"], pair["refresh"]]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    cleared = api_client.post(
        "/api/v1/cache/clear", {"namespace": "markets", "confirm": True}, format="json"
    )
    assert cleared.status_code == 200
    api_client.post("/api/v1/admin/cache/invalidate", {"key": "markets:x"}, format="json")

    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "signin.mfa_enrolment_required",
        "mfa.enabled",
        "signin.mfa_required",
        "signin",
        "ops.cache_clear",
        "ops.cache_invalidate",
    } <= actions
    dump = json.dumps(list(AuditEvent.objects.values()), default=str)
    for value in secrets:
        assert value not in dump, value[:12]
