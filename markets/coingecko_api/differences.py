"""Documented structural differences from CoinGecko's recorded answers.

Paths are dotted, ``*`` matches any key or list index. The contract tests fail on any other
difference, and docs/coingecko-compat.md lists the same entries.
"""

from __future__ import annotations

# Fields CoinGecko fills from data we do not hold: we answer null, never an invented value.
NULL: dict[str, tuple[str, ...]] = {
    "coins/markets": (
        "*.fully_diluted_valuation",
        "*.market_cap_change_24h",
        "*.market_cap_change_percentage_24h",
        "*.circulating_supply",
        "*.total_supply",
        "*.max_supply",
        "*.ath",
        "*.ath_change_percentage",
        "*.ath_date",
        "*.atl",
        "*.atl_change_percentage",
        "*.atl_date",
    ),
    "coins/{id}": (
        "block_time_in_minutes",
        "hashing_algorithm",
        "country_origin",
        "genesis_date",
        "sentiment_votes_up_percentage",
        "sentiment_votes_down_percentage",
        "coingecko_rank",
        "coingecko_score",
        "developer_score",
        "community_score",
        "liquidity_score",
        "public_interest_score",
        "market_data.price_change_24h",
        "market_data.price_change_percentage_14d",
        "market_data.price_change_percentage_60d",
        "market_data.price_change_percentage_200d",
        "market_data.price_change_percentage_1y",
        "market_data.market_cap_change_24h",
        "market_data.market_cap_change_percentage_24h",
        "market_data.total_supply",
        "market_data.max_supply",
        "market_data.circulating_supply",
    ),
    "search/trending": ("coins.*.item.coin_id", "coins.*.item.price_btc"),
    "global": ("data.upcoming_icos", "data.ongoing_icos", "data.ended_icos", "data.markets"),
}
# Objects CoinGecko has and we leave out (community, developer and exchange data we do not hold).
ABSENT: dict[str, tuple[str, ...]] = {
    "coins/{id}": (
        "links",
        "community_data",
        "developer_data",
        "public_interest_stats",
        "status_updates",
        "market_data.ath",
        "market_data.ath_change_percentage",
        "market_data.ath_date",
        "market_data.atl",
        "market_data.atl_change_percentage",
        "market_data.atl_date",
        "market_data.fully_diluted_valuation",
        "market_data.price_change_percentage_14d_in_currency",
        "market_data.price_change_percentage_60d_in_currency",
        "market_data.price_change_percentage_200d_in_currency",
        "market_data.price_change_percentage_1y_in_currency",
        "market_data.market_cap_change_24h_in_currency",
        "market_data.market_cap_change_percentage_24h_in_currency",
    ),
    "coins/{id}/history": ("community_data", "developer_data", "public_interest_stats"),
}
# Lists CoinGecko fills and we leave empty (no stored history of market caps; no tickers).
EMPTY: dict[str, tuple[str, ...]] = {
    "coins/{id}": ("tickers",),
    "coins/{id}/market_chart": ("market_caps",),
}
# Maps keyed by currency or coin: ours hold the currencies/coins we have, not CoinGecko's set.
MAPS: dict[str, tuple[str, ...]] = {
    "coins/{id}": ("platforms", "localization", "description", "market_data.*"),
    "coins/{id}/history": ("localization", "market_data.*"),
    "global": ("data.total_market_cap", "data.total_volume", "data.market_cap_percentage"),
    "simple/price": ("", "*"),
}
