"""Sign-up, sign-in, profile: the happy path and every way to misuse it."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import make_password

from .conftest import PASSWORD, strip_request_id

pytestmark = pytest.mark.django_db


def test_signup_signin_me_flow(api_client):
    response = api_client.post(
        "/api/v1/auth/signup",
        {"email": "New.User@Example.com", "password": PASSWORD, "display_name": "Newbie"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "new.user@example.com"
    assert body["role"] == "user"
    assert "password" not in body

    signin = api_client.post(
        "/api/v1/auth/signin",
        {"email": "new.user@example.com", "password": PASSWORD},
        format="json",
    )
    assert signin.status_code == 200
    tokens = signin.json()
    assert set(tokens) == {"access", "refresh"}

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = api_client.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["display_name"] == "Newbie"

    patched = api_client.patch("/api/v1/auth/me", {"display_name": "Renamed"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["display_name"] == "Renamed"

    put = api_client.put("/api/v1/auth/me", {"display_name": "Put"}, format="json")
    assert put.status_code == 200
    assert put.json()["display_name"] == "Put"


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short-pw-1", "too short"), ("password1234", "common"), ("123456789012345", "numeric")],
)
def test_signup_refuses_weak_passwords(api_client, password, reason):
    response = api_client.post(
        "/api/v1/auth/signup", {"email": "weak@example.com", "password": password}, format="json"
    )
    assert response.status_code == 400, reason
    assert response.json()["errors"][0]["attr"] == "password"


def test_signup_refuses_duplicate_email_case_insensitively(api_client, user):
    response = api_client.post(
        "/api/v1/auth/signup",
        {"email": user.email.upper(), "password": PASSWORD + "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"


def test_signup_requires_valid_email(api_client):
    response = api_client.post(
        "/api/v1/auth/signup", {"email": "not-an-email", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "email"


def test_new_passwords_are_hashed_with_argon2id(api_client, django_user_model):
    api_client.post(
        "/api/v1/auth/signup", {"email": "h@example.com", "password": PASSWORD}, format="json"
    )
    stored = django_user_model.objects.get(email="h@example.com").password
    assert stored.startswith("argon2$argon2id$")


def test_legacy_pbkdf2_hash_is_upgraded_on_signin(signin, django_user_model):
    user = django_user_model.objects.create(
        email="legacy@example.com", password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    assert user.password.startswith("pbkdf2_sha256$")
    assert signin("legacy@example.com").status_code == 200
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


def test_unknown_email_and_wrong_password_are_indistinguishable(signin, user):
    unknown = signin("nobody@example.com", ip="10.0.0.1")
    wrong = signin(user.email, password="wrong-password-123", ip="10.0.0.2")
    assert unknown.status_code == wrong.status_code == 401
    assert strip_request_id(unknown.json()) == strip_request_id(wrong.json())
    assert unknown.json()["errors"][0]["code"] == "invalid_credentials"


def test_inactive_user_cannot_sign_in_and_looks_like_wrong_password(signin, make_user):
    make_user(email="gone@example.com", is_active=False)
    response = signin("gone@example.com")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    "field",
    ["is_staff", "is_superuser", "email_verified", "id", "date_joined", "email", "password"],
)
def test_me_refuses_privileged_fields_and_changes_nothing(api_client, pair, user, field):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    value = {"id": 999, "date_joined": "2000-01-01T00:00:00Z", "email": "x@evil.test"}.get(
        field, True
    )
    response = api_client.patch(
        "/api/v1/auth/me", {"display_name": "ok", field: value}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == field
    user.refresh_from_db()
    assert (user.is_staff, user.is_superuser, user.email_verified) == (False, False, False)
    assert user.email == "alice@example.com"
    assert user.display_name == ""
    assert user.check_password(PASSWORD)


def test_put_me_requires_display_name(api_client, pair):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    response = api_client.put("/api/v1/auth/me", {}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "display_name"


def test_me_requires_authentication(api_client):
    response = api_client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.json()["type"] == "client_error"


def test_delete_me_deactivates_and_revokes(api_client, pair, user, signin):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    assert api_client.delete("/api/v1/auth/me").status_code == 204
    user.refresh_from_db()
    assert not user.is_active
    assert user.deactivated_at is not None
    assert api_client.get("/api/v1/auth/me").status_code == 401
    api_client.credentials()
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert signin(user.email).status_code == 401


def test_purge_anonymises_accounts_after_the_grace_period(user, settings):
    import datetime as dt

    from accounts import services

    services.user_deactivate(user=user)
    assert services.accounts_purge_deactivated() == 0
    later = user.deactivated_at + dt.timedelta(days=settings.ACCOUNT_DELETION_GRACE_DAYS + 1)
    assert services.accounts_purge_deactivated(now=later) == 1
    user.refresh_from_db()
    assert user.email == f"deleted-{user.pk}@deleted.invalid"


def test_configured_hasher_order_puts_argon2_first():
    from django.conf import settings as django_settings
    from django.test.utils import override_settings  # noqa: F401  (documents intent)

    import config.settings.base as base

    assert base.PASSWORD_HASHERS[0] == "accounts.hashers.Argon2idPasswordHasher"
    assert "django.contrib.auth.hashers.MD5PasswordHasher" not in base.PASSWORD_HASHERS
    assert django_settings.AUTH_PASSWORD_VALIDATORS[1]["OPTIONS"]["min_length"] >= 12


def test_the_hasher_uses_owasps_argon2id_baseline_and_upgrades_django_default_hashes(
    settings, signin, django_user_model
):
    from django.contrib.auth.hashers import Argon2PasswordHasher, identify_hasher

    from accounts.hashers import Argon2idPasswordHasher

    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_KIB, settings.ARGON2_PARALLELISM = 2, 19456, 1
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), Argon2idPasswordHasher)

    # a hash made with Django's own parameters (100 MiB, 8 lanes) still verifies, and the next
    # sign-in re-hashes it with ours
    heavy = Argon2PasswordHasher().encode(PASSWORD, Argon2PasswordHasher().salt())
    assert "m=102400,t=2,p=8" in heavy
    user = django_user_model.objects.create_user(email="heavy@example.com", password=None)
    django_user_model.objects.filter(pk=user.pk).update(password=heavy)
    assert signin("heavy@example.com", PASSWORD).status_code == 200
    user.refresh_from_db()
    assert "m=19456,t=2,p=1" in user.password and user.check_password(PASSWORD)
