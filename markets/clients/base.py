"""Shared pieces of the vendor clients: provider configs (read lazily), strict value types,
candle validation and the built-in provider-id mapping of well-known coins.

Every client returns ``markets.contracts`` dataclasses and raises ``core.http.ProviderError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated

from django.conf import settings
from pydantic import Field, Strict

from core.http import InvalidPayload, ProviderConfig, provider_http, register_provider
from markets.contracts import AssetData, CandleData

# Strict JSON numbers (CoinGecko, CryptoCompare): a string or a bool where a number belongs is
# garbage; prices must be finite and positive.
StrictPrice = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
StrictAmount = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
StrictPercent = Annotated[float, Strict(), Field(allow_inf_nan=False)]
# Binance/CoinCap send decimals as strings: parsed, then held to the same bounds.
TextPrice = Annotated[float, Field(gt=0, allow_inf_nan=False)]
TextAmount = Annotated[float, Field(ge=0, allow_inf_nan=False)]
TextPercent = Annotated[float, Field(allow_inf_nan=False)]


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

HTTP_PROVIDERS = ("coingecko", "binance", "coincap", "cryptocompare")
__all__ = ["HTTP_PROVIDERS", "KNOWN_ASSETS", "http", "known_asset", "utc_from_ms"]


def http(name: str):  # type: ignore[no-untyped-def]
    return provider_http(name)


def utc_from_ms(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def utc_from_s(s: float) -> datetime:
    return datetime.fromtimestamp(s, tz=UTC)


def checked_candle(
    *,
    open_time: datetime,
    open: float,
    high: float,
    low: float,
    close: float,
    volume: float,
    source: str,
) -> CandleData:
    """A candle that satisfies the database constraints, or ``InvalidPayload`` (never stored)."""
    values = (open, high, low, close, volume)
    if any(not math.isfinite(v) for v in values):
        raise InvalidPayload(f"non-finite candle value at {open_time.isoformat()}")
    if min(open, high, low, close) <= 0 or volume < 0:
        raise InvalidPayload(f"non-positive candle value at {open_time.isoformat()}")
    if high < low or high < max(open, close) or low > min(open, close):
        raise InvalidPayload(f"inconsistent high/low at {open_time.isoformat()}")
    return CandleData(
        open_time=open_time,
        open=open,
        high=high,
        low=low,
        close=close,
        volume=volume,
        source=source,
    )


# Provider ids of well-known coins, used when the database does not know an asset yet (first
# sync) and by providers without a coin directory (Binance pairs, CryptoCompare symbols).
# Ranks are only a tie-breaker of last resort; the database's market-cap ranks win.
_KNOWN: tuple[tuple[str, str, str, int, str, str], ...] = (
    # slug, symbol, name, rank, binance pair, coincap id
    ("bitcoin", "BTC", "Bitcoin", 1, "BTCUSDT", "bitcoin"),
    ("ethereum", "ETH", "Ethereum", 2, "ETHUSDT", "ethereum"),
    ("tether", "USDT", "Tether", 3, "", "tether"),
    ("ripple", "XRP", "XRP", 4, "XRPUSDT", "xrp"),
    ("binancecoin", "BNB", "BNB", 5, "BNBUSDT", "binance-coin"),
    ("solana", "SOL", "Solana", 6, "SOLUSDT", "solana"),
    ("usd-coin", "USDC", "USDC", 7, "USDCUSDT", "usd-coin"),
    ("dogecoin", "DOGE", "Dogecoin", 8, "DOGEUSDT", "dogecoin"),
    ("cardano", "ADA", "Cardano", 9, "ADAUSDT", "cardano"),
    ("tron", "TRX", "TRON", 10, "TRXUSDT", "tron"),
    ("chainlink", "LINK", "Chainlink", 12, "LINKUSDT", "chainlink"),
    ("avalanche-2", "AVAX", "Avalanche", 13, "AVAXUSDT", "avalanche"),
    ("stellar", "XLM", "Stellar", 14, "XLMUSDT", "stellar"),
    ("bitcoin-cash", "BCH", "Bitcoin Cash", 15, "BCHUSDT", "bitcoin-cash"),
    ("litecoin", "LTC", "Litecoin", 18, "LTCUSDT", "litecoin"),
    ("polkadot", "DOT", "Polkadot", 20, "DOTUSDT", "polkadot"),
    ("uniswap", "UNI", "Uniswap", 25, "UNIUSDT", "uniswap"),
)
KNOWN_ASSETS: dict[str, AssetData] = {
    slug: AssetData(
        slug=slug,
        symbol=symbol,
        name=name,
        rank=rank,
        coingecko_id=slug,
        binance_symbol=pair,
        coincap_id=coincap,
        cryptocompare_symbol=symbol,
    )
    for slug, symbol, name, rank, pair, coincap in _KNOWN
}


def known_asset(slug: str) -> AssetData | None:
    return KNOWN_ASSETS.get(slug)


def enrich(asset: AssetData) -> AssetData:
    """Fill the provider ids a vendor did not send from the built-in mapping (same slug only)."""
    known = KNOWN_ASSETS.get(asset.slug)
    if known is None:
        return asset
    return replace(
        asset,
        binance_symbol=asset.binance_symbol or known.binance_symbol,
        coincap_id=asset.coincap_id or known.coincap_id,
        cryptocompare_symbol=asset.cryptocompare_symbol or known.cryptocompare_symbol,
        coingecko_id=asset.coingecko_id or known.coingecko_id,
    )


def by_field(assets: Iterable[AssetData], attr: str) -> dict[str, AssetData]:
    """Index assets by a provider id; the first (best-ranked) asset wins a collision."""
    out: dict[str, AssetData] = {}
    for asset in assets:
        key = getattr(asset, attr)
        if key and key not in out:
            out[key] = asset
    return out
