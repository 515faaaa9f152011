"""Fixtures shared by the markets tests."""

import pytest

from markets.tests.provider_fixtures import api_payload, fresh_providers, sleeps  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated_provider_state(settings):  # type: ignore[no-untyped-def]
    """Breakers, budgets (in memory, not var/) and the live price L1 start fresh in every test."""
    from core.http import reset_providers
    from markets.apis.assets import reset_listing_cache
    from markets.live import reset_price_cache

    settings.PROVIDER_BUDGET_SQLITE_PATH = ""
    # The listing's response cache is tested on its own; elsewhere every request computes.
    settings.MARKETS_LISTING_CACHE_SECONDS = 0
    reset_providers()
    reset_price_cache()
    reset_listing_cache()
    yield
    reset_providers()
    reset_price_cache()
    reset_listing_cache()
