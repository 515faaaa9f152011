"""Settings of bench/prices_cache.py: the project's, with a URLconf that adds one bare view."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "bench._prices_cache_urls"
