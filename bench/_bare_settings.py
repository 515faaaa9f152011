"""Settings of the HTTP benchmarks: the project's, with a URLconf that adds the bare views."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench._bare_urls"
