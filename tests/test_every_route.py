"""Every route of the URL conf, every method, anonymous and as a user: never a 5xx, and under
``/api/`` every error is the JSON envelope (issue 16, finding 7: OPTIONS on views without a
queryset, the Google callback without Google). Path arguments are valid-looking dummies."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete", "options", "head"]
DUMMY = {
    "uuid": str(uuid.UUID(int=1)),
    "int": "1",
    "slug": "bitcoin",
    "str": "bitcoin",
    "path": "bitcoin",
}
# Routes not worth a request: Django's static serving and the admin's catch-all redirect.
SKIP = re.compile(r"^/(static/|media/)")


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    out: list[str] = []
    for entry in resolver.url_patterns:
        pattern = entry.pattern
        text = str(pattern)
        converters = getattr(pattern, "converters", {})
        if hasattr(pattern, "_route"):  # path(): fill each <conv:name>
            text = re.sub(
                r"<(?:(\w+):)?(\w+)>",
                lambda m: DUMMY.get(m.group(1) or "str", "x"),
                pattern._route,
            )
        else:  # re_path(): the literal part only
            text = re.sub(r"\(\?P<\w+>[^)]*\)", "1", text).lstrip("^").rstrip("$").replace("\\", "")
            text = re.sub(r"[()?*+\[\]]", "", text)
        del converters
        if isinstance(entry, URLResolver):
            out.extend(_routes(entry, prefix + text))
        elif isinstance(entry, URLPattern):
            out.append("/" + prefix + text)
    return sorted(set(out))


ROUTES = [r for r in _routes(get_resolver()) if not SKIP.match(r)]


def test_the_walk_covers_the_api():
    assert len(ROUTES) > 100
    assert "/api/v1/auth/oauth/google/callback" in ROUTES
    assert any(r.startswith("/api/v1/cryptocurrencies/") for r in ROUTES)


def _check(client: Client, route: str, who: str) -> list[str]:
    problems = []
    for method in METHODS:
        response = getattr(client, method)(route)
        where = f"{who} {method.upper()} {route} -> {response.status_code}"
        if response.status_code >= 500 and response.status_code != 503:
            problems.append(where)
        elif response.status_code == 503 and "Retry-After" not in response:
            problems.append(where + " (503 without Retry-After)")
        if route.startswith("/api/") and response.status_code >= 400 and method != "head":
            content_type = response.get("Content-Type", "")
            body = response.json() if content_type.startswith("application/json") else None
            if not (isinstance(body, dict) and body.get("status") == response.status_code):
                problems.append(where + f" (not the envelope: {content_type})")
    return problems


def test_every_route_and_method_answers_without_a_server_error(user, settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"google": {"APPS": []}}  # Google not configured
    anonymous = Client(raise_request_exception=False)
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(user)
    problems = []
    for route in ROUTES:
        problems += _check(anonymous, route, "anonymous")
        if route.startswith("/api/"):
            problems += _check(signed_in, route, "user")
    assert problems == [], "\n".join(problems)
