"""System checks for the kernel's own settings."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Warning, register


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
