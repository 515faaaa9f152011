"""Frozen dataclasses that cross app and vendor boundaries (no Django imports).

Money and prices are IEEE doubles (``float``) everywhere in cryptocast: in these contracts,
in the database (double precision) and in the API. One way, consistently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AssetData:
    """A coin as a provider describes it; ``slug`` is our canonical id (``bitcoin``)."""

    slug: str
    symbol: str
    name: str
    rank: int | None = None
    coingecko_id: str = ""
    binance_symbol: str = ""  # e.g. BTCUSDT
    coincap_id: str = ""
    cryptocompare_symbol: str = ""
    categories: tuple[str, ...] = ()
    image_url: str = ""


@dataclass(frozen=True, slots=True)
class QuoteData:
    """The latest market figures of one asset from one provider, with provenance."""

    asset: AssetData
    price: float
    source: str
    as_of: datetime  # the provider's own timestamp (UTC)
    fetched_at: datetime  # when we received it (UTC)
    market_cap: float | None = None
    volume_24h: float | None = None  # in quote currency (USD/USDT)
    change_1h: float | None = None  # percent
    change_24h: float | None = None
    change_7d: float | None = None
    change_30d: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    fallback_reason: str = ""  # blank unless a failover happened


@dataclass(frozen=True, slots=True)
class CandleData:
    """One OHLCV candle; ``open_time`` is the candle's opening instant in UTC."""

    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    source: str


@dataclass(frozen=True, slots=True)
class ProviderAttempt:
    provider: str
    ok: bool
    reason: str = ""  # e.g. "429 rate limited", "timeout", "invalid payload"


@dataclass(frozen=True, slots=True)
class QuoteBatch:
    """What a failover fetch returns: the quotes, who answered, and who failed first."""

    quotes: tuple[QuoteData, ...]
    source: str
    fallback_reason: str = ""
    attempts: tuple[ProviderAttempt, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One point of a provider price series (CoinGecko ``market_chart``), all in quote currency."""

    time: datetime
    price: float
    market_cap: float | None = None
    volume: float | None = None


@dataclass(frozen=True, slots=True)
class TrendingCoin:
    """A coin on a provider's trending list (``score`` 0 = most trending)."""

    asset: AssetData
    score: int
    price_btc: float | None = None
    source: str = "coingecko"


@dataclass(frozen=True, slots=True)
class GlobalData:
    """Whole-market figures from a provider (USD), with provenance."""

    total_market_cap_usd: float
    total_volume_usd: float
    market_cap_change_24h: float | None
    dominance: dict[str, float]  # symbol (lower case) -> percent of total market cap
    active_cryptocurrencies: int | None
    markets: int | None
    source: str
    as_of: datetime
    fetched_at: datetime


# --- quote currencies (markets.currency) ----------------------------------------------
class UnknownCurrency(ValueError):
    """``vs`` is not a currency we can convert to; ``supported`` lists those we can."""

    def __init__(self, vs: str, supported: list[str]) -> None:
        super().__init__(f"Unsupported currency {vs!r}.")
        self.vs = vs
        self.supported = supported


@dataclass(frozen=True, slots=True)
class Rate:
    vs: str
    per_usd: float  # units of ``vs`` per 1 USD
    source: str
    as_of: datetime | None
    stale: bool = False
    # The quote currency's own % change against USD per window (change_24h: ...).
    changes: Mapping[str, float | None] = field(default_factory=dict)
