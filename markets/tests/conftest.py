"""Fixtures shared by the markets tests."""

from markets.tests.provider_fixtures import api_payload, fresh_providers, sleeps  # noqa: F401
