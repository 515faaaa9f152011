"""System checks: refuse to start with token settings that silently do nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"


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
