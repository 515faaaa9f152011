"""The built-in provider-id mapping of well-known coins, and matching vendor descriptions to it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from markets.contracts import AssetData

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
    ("litecoin", "LTC", "Litecoin", 20, "LTCUSDT", "litecoin"),
    ("polkadot", "DOT", "Polkadot", 17, "DOTUSDT", "polkadot"),
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
