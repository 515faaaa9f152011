"""Every API route's permission classes agree with the role table in docs/roles.md."""

from __future__ import annotations

import re
from pathlib import Path

from core.routes import ROLE_ORDER, api_routes

DOC = Path(__file__).resolve().parent.parent / "docs" / "roles.md"
ROW = re.compile(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (\w+) \| (.*?) \|$")


def _documented() -> dict[tuple[str, str], tuple[str, str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line.strip())
        if match:
            method, path, role, notes = match.groups()
            rows[(method, path)] = (role, notes.strip())
    return rows


def test_every_route_is_in_the_role_table_with_the_role_its_permissions_require():
    documented = _documented()
    actual = {(r.method, r.path): (r.role, r.notes) for r in api_routes()}
    assert actual, "no API routes found"
    missing = sorted(set(actual) - set(documented))
    stale = sorted(set(documented) - set(actual))
    wrong = sorted(k for k in actual.keys() & documented.keys() if actual[k] != documented[k])
    hint = " (run scripts/role_table.py)"
    assert not missing, f"routes missing from docs/roles.md{hint}: {missing}"
    assert not stale, f"docs/roles.md lists routes that no longer exist{hint}: {stale}"
    assert not wrong, f"roles differ from the permission classes{hint}: {wrong}"
    assert {role for role, _ in actual.values()} <= set(ROLE_ORDER)


def test_role_management_is_admin_only_and_account_security_refuses_api_keys():
    roles = {(r.method, r.path): r for r in api_routes()}
    assert roles[("PUT", "/api/v1/admin/users/<int:user_id>/role")].role == "admin"
    totp = roles[("POST", "/api/v1/auth/mfa/totp")]
    assert (totp.role, totp.notes) == ("user", "not with an API key")
    assert roles[("POST", "/api/v1/auth/signin")].role == "anyone"
