"""System checks for the kernel's own settings."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.utils.module_loading import import_string


@register()
def sample_data_check(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    path = settings.CRYPTOCAST_SAMPLE_DATA
    if path and not Path(path).is_dir():
        return [
            Warning(
                f"CRYPTOCAST_SAMPLE_DATA={path!r} is not a directory; the demo will start empty.",
                id="core.W001",
            )
        ]
    return []


# Django's security checks look for its own dotted paths; core.middleware subclasses them (to
# run without thread hops under ASGI), so those three checks are silenced in settings and
# re-made here: each middleware must be present as itself or as a subclass.
_REQUIRED_MIDDLEWARE = {
    "django.middleware.security.SecurityMiddleware": "security.W001",
    "django.middleware.clickjacking.XFrameOptionsMiddleware": "security.W002",
    "django.middleware.csrf.CsrfViewMiddleware": "security.W003",
}


@register(Tags.security)
def security_middleware_check(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    installed = []
    for dotted in settings.MIDDLEWARE:
        try:
            installed.append(import_string(dotted))
        except ImportError:
            continue
    problems = []
    for required, replaces in _REQUIRED_MIDDLEWARE.items():
        cls = import_string(required)
        if not any(isinstance(m, type) and issubclass(m, cls) for m in installed):
            problems.append(
                Warning(
                    f"{required} (or a subclass) is not in MIDDLEWARE ({replaces} is silenced "
                    "in favour of this check).",
                    id="core.W002",
                )
            )
    return problems
