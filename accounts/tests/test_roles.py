"""Role management: the admin-only role API, the last-admin guard, the Django admin actions,
and the analyst role in the permission classes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIRequestFactory

from accounts import services
from accounts.models import AuditEvent
from core.permissions import IsAnalyst, IsStaff

pytestmark = pytest.mark.django_db


def _url(user_id: int) -> str:
    return f"/api/v1/admin/users/{user_id}/role"


@pytest.fixture
def admin(make_user):  # type: ignore[no-untyped-def]
    admin = make_user(email="root@example.com")
    services.user_role_set(user=admin, role="admin")
    return admin


def _as(api_client, user):  # type: ignore[no-untyped-def]
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {services.token_pair_issue(user=user).access}"
    )
    return api_client


def test_an_admin_reads_and_sets_a_role(api_client, admin, user):
    _as(api_client, admin)
    assert api_client.get(_url(user.pk)).json() == {
        "user_id": user.pk,
        "email": user.email,
        "role": "user",
    }
    response = api_client.put(_url(user.pk), {"role": "analyst"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "analyst"
    user.refresh_from_db()
    assert services.user_role(user) == "analyst" and not user.is_staff
    event = AuditEvent.objects.get(action="role.changed", user=user)
    assert (event.user, event.actor, event.data) == (user, admin, {"from": "user", "to": "analyst"})


def test_role_api_refuses_non_admins_anonymous_and_unknown_users(
    api_client, admin, user, make_user
):
    assert api_client.get(_url(user.pk)).status_code == 401
    staff = make_user(email="staff2@example.com")
    services.user_role_set(user=staff, role="staff")
    _as(api_client, staff)
    assert api_client.get(_url(user.pk)).status_code == 403
    assert api_client.put(_url(staff.pk), {"role": "admin"}, format="json").status_code == 403
    _as(api_client, admin)
    assert api_client.get(_url(99999)).status_code == 404


def test_role_api_names_a_bad_role(api_client, admin, user):
    _as(api_client, admin)
    response = api_client.put(_url(user.pk), {"role": "god"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "role"


def test_the_last_admin_cannot_be_demoted(api_client, admin, make_user):
    _as(api_client, admin)
    response = api_client.put(_url(admin.pk), {"role": "staff"}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "last_admin"
    assert services.user_role(admin) == "admin"
    second = make_user(email="root2@example.com")
    services.user_role_set(user=second, role="admin")
    assert api_client.put(_url(admin.pk), {"role": "staff"}, format="json").status_code == 200


def test_an_inactive_admin_does_not_count_as_another_admin(admin, make_user):
    ghost = make_user(email="ghost@example.com")
    services.user_role_set(user=ghost, role="admin")
    type(ghost).objects.filter(pk=ghost.pk).update(is_active=False)
    with pytest.raises(services.LastAdmin):
        services.user_role_set(user=admin, role="user")


@pytest.mark.parametrize(
    ("role", "analyst_ok", "staff_ok"),
    [
        ("user", False, False),
        ("analyst", True, False),
        ("staff", True, True),
        ("admin", True, True),
    ],
)
def test_analyst_permission_class(make_user, role, analyst_ok, staff_ok):
    user = make_user(email=f"{role}@example.com")
    services.user_role_set(user=user, role=role)
    user = type(user).objects.get(pk=user.pk)
    request = APIRequestFactory().get("/")
    request.user = user
    assert IsAnalyst().has_permission(request, None) is analyst_ok
    assert IsStaff().has_permission(request, None) is staff_ok


def test_django_admin_role_actions_go_through_the_service(client, admin, user):
    client.force_login(admin)
    response = client.post(
        "/admin/accounts/user/", {"action": "make_staff", "_selected_action": [str(user.pk)]}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert services.user_role(user) == "staff" and user.is_staff
    client.post(
        "/admin/accounts/user/", {"action": "make_user", "_selected_action": [str(admin.pk)]}
    )
    assert services.user_role(type(admin).objects.get(pk=admin.pk)) == "admin"  # last admin
    assert AuditEvent.objects.filter(action="role.changed", actor=admin).count() == 1


def test_staff_cannot_change_roles_in_the_django_admin(client, staff_user, user):
    services.user_role_set(user=staff_user, role="staff")
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(*Permission.objects.filter(codename__endswith="_user"))
    client.force_login(staff_user)
    client.post(
        "/admin/accounts/user/", {"action": "make_admin", "_selected_action": [str(user.pk)]}
    )
    assert services.user_role(type(user).objects.get(pk=user.pk)) == "user"


def test_admin_turns_off_a_users_2fa(client, admin, user):
    from django.utils import timezone

    from accounts.models import TotpDevice

    services.totp_enrol(user=user)
    TotpDevice.objects.filter(user=user).update(confirmed_at=timezone.now())
    assert services.mfa_enabled(user)
    client.force_login(admin)
    client.post(
        "/admin/accounts/user/",
        {"action": "turn_off_two_factor", "_selected_action": [str(user.pk)]},
    )
    assert not services.mfa_enabled(user)
    assert AuditEvent.objects.filter(action="mfa.reset", actor=admin, user=user).exists()
