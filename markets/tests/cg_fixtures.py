"""A small store for the CoinGecko-compatible tests: three coins with quotes, daily, hourly and
5-minute candles, and USD->EUR/MYR rates. All values here are hand-made (prices in the range of
the recorded May 2021 answers); the shapes they are compared with are CoinGecko's real ones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fx.contracts import DailyRates
from fx.services import rates_store
from markets.contracts import CandleData
from markets.models import Asset
from markets.services import candles_upsert
from markets.tests.data_helpers import asset_data, quote, store

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
BTC_USD = 50000.0
ETH_USD = 2500.0
EUR_PER_USD = 0.9  # hand-made
MYR_PER_USD = 4.5  # hand-made


def build_store(now: datetime = NOW) -> dict[str, Asset]:
    btc = asset_data(
        "bitcoin",
        "BTC",
        1,
        coingecko_id="bitcoin",
        binance_symbol="BTCUSDT",
        categories=("Cryptocurrency",),
    )
    eth = asset_data("ethereum", "ETH", 2, coingecko_id="ethereum", binance_symbol="ETHUSDT")
    usdt = asset_data("tether", "USDT", 3, coingecko_id="tether")
    store(
        quote(
            btc,
            BTC_USD,
            as_of=now - timedelta(seconds=30),
            fetched_at=now,
            market_cap=9.4e11,
            volume_24h=3.0e10,
            change_1h=0.1,
            change_24h=-4.0,
            change_7d=-10.0,
            change_30d=-20.0,
            high_24h=52000.0,
            low_24h=49000.0,
        ),
        quote(
            eth,
            ETH_USD,
            as_of=now - timedelta(seconds=30),
            fetched_at=now,
            market_cap=3.0e11,
            volume_24h=2.0e10,
            change_1h=0.2,
            change_24h=2.0,
            change_7d=5.0,
            change_30d=8.0,
            high_24h=2600.0,
            low_24h=2400.0,
        ),
        quote(
            usdt,
            1.0,
            as_of=now - timedelta(seconds=30),
            fetched_at=now,
            market_cap=1.0e11,
            volume_24h=5.0e10,
            change_24h=0.0,
            high_24h=1.01,
            low_24h=0.99,
        ),
    )
    assets = {a.pk: a for a in Asset.objects.all()}
    for slug, base in (("bitcoin", BTC_USD), ("ethereum", ETH_USD)):
        asset = assets[slug]
        for interval, step, n in (
            ("1d", timedelta(days=1), 400),
            ("1h", timedelta(hours=1), 24 * 31),
            ("5m", timedelta(minutes=5), 12 * 25),
        ):
            end = now.replace(minute=0, second=0, microsecond=0)
            if interval == "1d":
                end = end.replace(hour=0)
            rows = []
            for i in range(n, 0, -1):
                t = end - step * i
                p = base * (1 + 0.0001 * (i % 17))
                rows.append(
                    CandleData(
                        open_time=t,
                        open=p,
                        high=p * 1.01,
                        low=p * 0.99,
                        close=p * 1.001,
                        volume=10.0,
                        source="binance",
                    )
                )
            candles_upsert(asset=asset, interval=interval, candles=rows)
    days = [
        DailyRates(
            day=date(2023, 1, 2) + timedelta(days=i),
            rates=(("eur", EUR_PER_USD), ("myr", MYR_PER_USD)),
            source="frankfurter",
        )
        for i in range(0, (now.date() - date(2023, 1, 2)).days + 1, 1)
    ]
    rates_store(days=days)
    return {a.pk: a for a in Asset.objects.select_related("latest_quote")}
