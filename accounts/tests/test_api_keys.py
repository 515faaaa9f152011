"""API keys: shown once, stored hashed, optional expiry, last_used_at, owner-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import ApiKey
from accounts.services.hashed_secrets import digest

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/auth/api-keys"


@pytest.fixture
def jwt_client(api_client, pair):  # type: ignore[no-untyped-def]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    return api_client


def create(client, **body):  # type: ignore[no-untyped-def]
    return client.post(KEYS, {"name": "script", **body}, format="json")


def test_api_key_lifecycle(jwt_client, api_client_factory):
    created = create(jwt_client)
    assert created.status_code == 201
    body = created.json()
    raw = body["key"]
    assert raw.startswith(f"cc_{body['prefix']}_")
    row = ApiKey.objects.get(pk=body["id"])
    assert row.digest == digest(raw)
    assert raw not in (row.digest, row.prefix, row.name)

    listed = jwt_client.get(KEYS).json()
    assert [k["id"] for k in listed["results"]] == [body["id"]]
    assert "key" not in listed["results"][0]  # shown once only

    script = api_client_factory(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert script.get("/api/v1/auth/me").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None

    assert jwt_client.delete(f"{KEYS}/{body['id']}").status_code == 204
    revoked = script.get("/api/v1/auth/me")
    assert revoked.status_code == 401
    assert revoked.json()["errors"][0]["code"] == "invalid_api_key"


def test_expired_api_key_is_refused(jwt_client, api_client_factory):
    raw = create(jwt_client, expires_at=(timezone.now() + timedelta(days=1)).isoformat()).json()[
        "key"
    ]
    script = api_client_factory(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert script.get("/api/v1/auth/me").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert script.get("/api/v1/auth/me").status_code == 401


def test_api_key_expiry_must_be_in_the_future(jwt_client):
    response = create(jwt_client, expires_at="2001-01-01T00:00:00Z")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "expires_at"


def test_wrong_api_key_is_refused(api_client_factory):
    for header in ("Api-Key cc_nope_nope", "Api-Key", "Api-Key a b"):
        response = api_client_factory(HTTP_AUTHORIZATION=header).get("/api/v1/auth/me")
        assert response.status_code == 401, header


def test_another_users_key_is_a_404_and_stays_alive(jwt_client, make_user, api_client_factory):
    from accounts import services

    other = make_user(email="other@example.com")
    key, raw = services.api_key_create(user=other, name="theirs")
    assert jwt_client.delete(f"{KEYS}/{key.pk}").status_code == 404
    assert all(k["id"] != str(key.pk) for k in jwt_client.get(KEYS).json()["results"])
    script = api_client_factory(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert script.get("/api/v1/auth/me").status_code == 200


def test_an_api_key_cannot_mint_keys_or_change_the_account(jwt_client, api_client_factory):
    raw = create(jwt_client).json()["key"]
    script = api_client_factory(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert create(script).status_code == 403
    assert script.delete("/api/v1/auth/me").status_code == 403
    password = script.put(
        "/api/v1/auth/me/password",
        {"current_password": "x", "new_password": "y"},
        format="json",
    )
    assert password.status_code == 403


def test_deactivated_users_keys_stop_working(jwt_client, api_client_factory, user):
    raw = create(jwt_client).json()["key"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    script = api_client_factory(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert script.get("/api/v1/auth/me").status_code == 401


def test_key_count_is_bounded(jwt_client, settings):
    settings.API_KEY_MAX_PER_USER = 2
    assert create(jwt_client).status_code == 201
    assert create(jwt_client).status_code == 201
    assert create(jwt_client).status_code == 400


def test_api_keys_need_authentication(api_client):
    assert api_client.get(KEYS).status_code == 401
    assert create(api_client).status_code == 401
