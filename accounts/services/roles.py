"""Roles are Django groups (created by migration 0003): ``user`` < ``staff`` < ``admin``.

The ``is_staff``/``is_superuser`` flags are kept in step so the Django admin agrees with the
API's permission classes (``core.permissions``).
"""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction

from accounts.models import User

ROLES = ("user", "staff", "admin")


def user_role(user: User) -> str:
    names = {g.name for g in user.groups.all()}
    if user.is_superuser or "admin" in names:
        return "admin"
    if user.is_staff or "staff" in names:
        return "staff"
    return "user"


@transaction.atomic
def user_role_set(*, user: User, role: str) -> User:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {ROLES}")
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    missing = [name for name in ROLES if name not in groups]
    for name in missing:
        groups[name] = Group.objects.create(name=name)
    user.groups.remove(*[groups[name] for name in ROLES if name != role])
    user.groups.add(groups[role])
    user.is_staff = role in ("staff", "admin")
    user.is_superuser = role == "admin"
    user.save(update_fields=["is_staff", "is_superuser"])
    return user
