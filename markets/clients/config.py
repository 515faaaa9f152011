"""Connection settings of the market-data vendors (base URL, key header, timeouts, retries,
rate budget, breaker), read from Django settings lazily and registered with ``core.http``; and
``http(name)``, each client's handle on the shared resilient HTTP layer."""

from __future__ import annotations

from django.conf import settings

from core.http import ProviderConfig, provider_http, register_provider

HTTP_PROVIDERS = ("coingecko", "binance", "coincap", "cryptocompare")


def _config(
    name: str, *, url_setting: str, headers: dict[str, str] | None = None
) -> ProviderConfig:
    budgets = getattr(settings, "PROVIDER_BUDGETS", {}) or {}
    return ProviderConfig(
        name=name,
        base_url=str(getattr(settings, url_setting)).rstrip("/"),
        timeout=settings.PROVIDER_TIMEOUT_SECONDS,
        connect_timeout=settings.PROVIDER_CONNECT_TIMEOUT_SECONDS,
        headers=headers or {},
        attempts=settings.PROVIDER_RETRY_ATTEMPTS,
        retry_after_cap=settings.PROVIDER_RETRY_AFTER_CAP_SECONDS,
        total_timeout=settings.PROVIDER_RETRY_TOTAL_SECONDS,
        budget=int(budgets.get(name, 60)),
        breaker_fail_max=settings.PROVIDER_BREAKER_FAIL_MAX,
        breaker_reset_timeout=settings.PROVIDER_BREAKER_RESET_SECONDS,
    )


def _coingecko_config() -> ProviderConfig:
    key = settings.COINGECKO_API_KEY
    header = "x-cg-pro-api-key" if settings.COINGECKO_API_PLAN == "pro" else "x-cg-demo-api-key"
    return _config(
        "coingecko", url_setting="COINGECKO_API_URL", headers={header: key} if key else {}
    )


def _binance_config() -> ProviderConfig:
    return _config("binance", url_setting="BINANCE_API_URL")


def _coincap_config() -> ProviderConfig:
    key = settings.COINCAP_API_KEY
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return _config("coincap", url_setting="COINCAP_API_URL", headers=headers)


def _cryptocompare_config() -> ProviderConfig:
    key = settings.CRYPTOCOMPARE_API_KEY
    headers = {"authorization": f"Apikey {key}"} if key else {}
    return _config("cryptocompare", url_setting="CRYPTOCOMPARE_API_URL", headers=headers)


register_provider("coingecko", _coingecko_config)
register_provider("binance", _binance_config)
register_provider("coincap", _coincap_config)
register_provider("cryptocompare", _cryptocompare_config)


def http(name: str):  # type: ignore[no-untyped-def]
    return provider_http(name)
