"""Bad input never becomes a 500; throttles; roles and permission classes."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIRequestFactory

from accounts.services import user_role, user_role_set
from core.permissions import IsAdmin, IsStaff

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_400_envelope(api_client):
    response = api_client.post(
        "/api/v1/auth/signin", data='{"email": ', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"


def test_json_that_is_not_an_object_is_a_400(api_client):
    response = api_client.post(
        "/api/v1/auth/signin", data="[1, 2]", content_type="application/json"
    )
    assert response.status_code == 400


def test_wrong_content_type_is_a_415_envelope(api_client):
    response = api_client.post(
        "/api/v1/auth/signin", data="email=a&password=b", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json()["type"] == "client_error"


def test_form_encoded_bodies_are_refused_on_auth_endpoints(api_client):
    response = api_client.post(
        "/api/v1/auth/signin",
        data="email=a%40b.c&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415


def test_oversized_body_is_a_413_envelope(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = '{"email": "a@example.com", "password": "' + "x" * 4096 + '"}'
    response = api_client.post("/api/v1/auth/signin", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "payload_too_large"


def test_missing_fields_are_named(api_client):
    response = api_client.post("/api/v1/auth/signin", {}, format="json")
    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"email", "password"}


def test_auth_endpoints_are_throttled(api_client, monkeypatch):
    from accounts.apis import AuthThrottle

    monkeypatch.setattr(AuthThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    codes = [
        api_client.post("/api/v1/auth/password-reset", {"email": "a@b.co"}, format="json")
        for _ in range(4)
    ]
    assert [c.status_code for c in codes] == [200, 200, 200, 429]
    assert "Retry-After" in codes[-1]
    assert codes[-1].json()["type"] == "client_error"


def test_role_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"user", "staff", "admin"}


def test_signup_puts_the_user_in_the_user_role(api_client, django_user_model):
    api_client.post(
        "/api/v1/auth/signup",
        {"email": "r@example.com", "password": "correct-horse-battery-9"},
        format="json",
    )
    user = django_user_model.objects.get(email="r@example.com")
    assert list(user.groups.values_list("name", flat=True)) == ["user"]
    assert user_role(user) == "user"


@pytest.mark.parametrize(
    ("role", "staff_ok", "admin_ok"),
    [("user", False, False), ("staff", True, False), ("admin", True, True)],
)
def test_role_permission_classes(make_user, role, staff_ok, admin_ok):
    user = make_user(email=f"{role}@example.com")
    user_role_set(user=user, role=role)
    user = type(user).objects.get(pk=user.pk)
    request = APIRequestFactory().get("/")
    request.user = user
    assert IsStaff().has_permission(request, None) is staff_ok
    assert IsAdmin().has_permission(request, None) is admin_ok
    assert user.is_staff is staff_ok  # the Django admin agrees with the API


def test_anonymous_and_inactive_users_have_no_role(make_user):
    from django.contrib.auth.models import AnonymousUser

    request = APIRequestFactory().get("/")
    request.user = AnonymousUser()
    assert not IsStaff().has_permission(request, None)
    inactive = make_user(email="off@example.com", is_staff=True, is_active=False)
    request.user = inactive
    assert not IsStaff().has_permission(request, None)


def test_unknown_role_is_refused(user):
    with pytest.raises(ValueError):
        user_role_set(user=user, role="god")


def test_admin_revoke_action_signs_the_user_out(admin_client, user, pair, api_client):
    from accounts.models import TokenFamily

    family = TokenFamily.objects.get(user=user)
    response = admin_client.post(
        "/admin/accounts/tokenfamily/",
        {"action": "revoke", "_selected_action": [str(family.pk)]},
    )
    assert response.status_code == 302
    assert (
        api_client.post(
            "/api/v1/auth/refresh", {"refresh": pair["refresh"]}, format="json"
        ).status_code
        == 401
    )


def test_admin_pages_render(admin_client, user, pair):
    from accounts import services

    services.api_key_create(user=user, name="k")
    for url in ("/admin/accounts/tokenfamily/", "/admin/accounts/apikey/", "/admin/accounts/user/"):
        assert admin_client.get(url).status_code == 200, url


@pytest.mark.urls("accounts.tests.urls")
@pytest.mark.parametrize(
    ("role", "staff_status", "admin_status"),
    [("user", 403, 403), ("staff", 200, 403), ("admin", 200, 200)],
)
def test_staff_only_endpoints_return_403_to_users(
    api_client, make_user, role, staff_status, admin_status
):
    from accounts.services import token_pair_issue

    user = make_user(email=f"{role}@example.com")
    user_role_set(user=user, role=role)
    access = token_pair_issue(user=user).access
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    staff = api_client.get("/api/staff-only")
    assert staff.status_code == staff_status
    assert api_client.get("/api/admin-only").status_code == admin_status
    if staff_status == 403:
        assert staff.json()["errors"][0]["code"] == "permission_denied"
    api_client.credentials()
    assert api_client.get("/api/staff-only").status_code == 401


def test_auth_throttle_steps_aside_when_the_cache_is_down(api_client, user, monkeypatch):
    from accounts.apis import AuthThrottle

    class DeadCache:
        def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            raise ConnectionError("redis is down")

        set = get

    monkeypatch.setattr(AuthThrottle, "cache", DeadCache())
    response = api_client.post(
        "/api/v1/auth/signin",
        {"email": user.email, "password": "correct-horse-battery-9"},
        format="json",
    )
    assert response.status_code == 200
