"""System checks: refuse to start with token settings that silently do nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"
# HS256 wants a key at least as long as its 256-bit output (RFC 7518, 3.2).
MIN_SIGNING_KEY_BYTES = 32
# Keys that are public: the embedded default in config/settings/base.py, and placeholders.
PUBLISHED_SIGNING_KEYS = frozenset(
    {
        "insecure-embedded-jwt-key-change-me-0123456789",
        "insecure-embedded-dev-key-change-me-0123456789",
        "change-me",
        "changeme",
        "secret",
    }
)


@register()
def jwt_settings_check(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    errors = []
    jwt = getattr(settings, "SIMPLE_JWT", {})
    rotating = jwt.get("ROTATE_REFRESH_TOKENS") or jwt.get("BLACKLIST_AFTER_ROTATION")
    if rotating and BLACKLIST_APP not in settings.INSTALLED_APPS:
        errors.append(
            Error(
                "Refresh-token rotation is on but simplejwt's token_blacklist app is not "
                "installed: rotated tokens would stay valid.",
                hint=f"Add {BLACKLIST_APP!r} to INSTALLED_APPS and migrate.",
                id="accounts.E001",
            )
        )
    if jwt.get("SIGNING_KEY") in (None, "", settings.SECRET_KEY):
        errors.append(
            Error(
                "SIMPLE_JWT['SIGNING_KEY'] must be set and differ from SECRET_KEY.",
                hint="Set JWT_SIGNING_KEY.",
                id="accounts.E002",
            )
        )
    backends = list(getattr(settings, "AUTHENTICATION_BACKENDS", []))
    if not backends or not backends[0].startswith("axes."):
        errors.append(
            Error(
                "django-axes must be the first authentication backend, or lockouts are skipped.",
                id="accounts.E003",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def jwt_signing_key_check(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    """``check --deploy``: with DEBUG off, the JWT key must be long and not a published one
    (anyone who knows it can mint tokens for any user)."""
    if settings.DEBUG:
        return []
    key = getattr(settings, "SIMPLE_JWT", {}).get("SIGNING_KEY") or ""
    raw = key.encode() if isinstance(key, str) else bytes(key)
    if (
        len(raw) < MIN_SIGNING_KEY_BYTES
        or key in PUBLISHED_SIGNING_KEYS
        or key.startswith("insecure-")
    ):
        return [
            Error(
                f"JWT_SIGNING_KEY is shorter than {MIN_SIGNING_KEY_BYTES} bytes or a published "
                "development key.",
                hint='Set JWT_SIGNING_KEY to a random secret, e.g. python -c "import secrets; '
                'print(secrets.token_urlsafe(48))".',
                id="accounts.E004",
            )
        ]
    return []
