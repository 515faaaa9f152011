"""Roles are Django groups (created by migrations 0003/0005):
``user`` < ``analyst`` < ``staff`` < ``admin``.

``analyst`` may run backtests and read operational figures; ``staff`` runs the Django admin
and staff endpoints; ``admin`` also manages roles. The ``is_staff``/``is_superuser`` flags are
kept in step so the Django admin agrees with the API's permission classes (``core.permissions``).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from rest_framework import exceptions

from accounts.models import User

from .audit import audit_record

ROLES = ("user", "analyst", "staff", "admin")


class LastAdmin(exceptions.APIException):
    status_code = 409
    default_detail = "The last administrator cannot be demoted or deactivated."
    default_code = "last_admin"


def user_role(user: User) -> str:
    names = {g.name for g in user.groups.all()}
    if user.is_superuser or "admin" in names:
        return "admin"
    if user.is_staff or "staff" in names:
        return "staff"
    if "analyst" in names:
        return "analyst"
    return "user"


def _admins() -> Q:
    return Q(is_superuser=True) | Q(groups__name="admin")


@transaction.atomic
def user_role_set(
    *,
    user: User,
    role: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
) -> User:
    """Give ``user`` exactly one role. Demoting the last active administrator is refused
    (``LastAdmin``, a 409); the change is audited when it changes anything."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    before = user_role(user) if user.pk else None
    if before == "admin" and role != "admin":
        # Lock every admin row so two concurrent demotions cannot both see "another admin".
        # (PostgreSQL refuses FOR UPDATE with DISTINCT or an outer join: lock by id.)
        admins = User.objects.filter(_admins()).values("pk")
        admin_ids = list(
            User.objects.select_for_update(of=("self",))
            .filter(pk__in=admins, is_active=True)
            .values_list("pk", flat=True)
        )
        if not set(admin_ids) - {user.pk}:
            raise LastAdmin()
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    for name in ROLES:
        if name not in groups:
            groups[name] = Group.objects.create(name=name)
    user.groups.remove(*[groups[name] for name in ROLES if name != role])
    user.groups.add(groups[role])
    user.is_staff = role in ("staff", "admin")
    user.is_superuser = role == "admin"
    user.save(update_fields=["is_staff", "is_superuser"])
    if hasattr(user, "_role_group_names"):
        del user._role_group_names  # core.permissions' per-request cache
    if before is not None and before != role:
        audit_record(
            action="role.changed",
            user=user,
            actor=actor,
            request=request,
            target_type="user",
            target_id=user.pk,
            data={"from": before, "to": role},
        )
    return user
