from django.apps import AppConfig
from django.conf import settings

from core.health import register_external_probe, register_probe
from core.schedules import PeriodicJob, register


class MarketsConfig(AppConfig):
    name = "markets"
    verbose_name = "Markets"

    def ready(self) -> None:
        if settings.MARKETS_TICK_SECONDS > 0:
            register(
                PeriodicJob(
                    name="markets: live tick",
                    task="markets.sync_quotes",
                    every_seconds=settings.MARKETS_TICK_SECONDS,
                    kwargs={"top": settings.MARKETS_TICK_TOP},
                    expire_seconds=max(settings.MARKETS_TICK_SECONDS - 1, 1),
                    description=(
                        "Quotes of the top coins every few seconds (failover; the replay "
                        "provider offline), so the streams move."
                    ),
                )
            )

        for job in (
            PeriodicJob(
                name="markets: quotes top 50",
                task="markets.sync_quotes",
                every_seconds=60,
                kwargs={"top": 50},
                expire_seconds=55,
                description="Latest quotes of the top 50 assets (provider failover).",
            ),
            PeriodicJob(
                name="markets: quotes top 200",
                task="markets.sync_quotes",
                crontab="7 * * * *",
                kwargs={"top": 200},
                expire_seconds=3000,
                description="Latest quotes of the top 200 assets; registers new assets.",
            ),
            PeriodicJob(
                name="markets: hourly candles",
                task="markets.sync_candles",
                crontab="2 * * * *",
                kwargs={"interval": "1h", "lookback": 3},
                expire_seconds=3000,
                description="Last 3 hourly candles of every asset with a Binance pair.",
            ),
            PeriodicJob(
                name="markets: daily candles",
                task="markets.sync_candles",
                crontab="5 0 * * *",
                kwargs={"interval": "1d", "lookback": 3},
                expire_seconds=6 * 3600,
                description="Last 3 daily candles of every asset with a Binance pair.",
            ),
            PeriodicJob(
                name="markets: market overview",
                task="markets.refresh_market_overview",
                every_seconds=120,
                expire_seconds=110,
                description="Provider /global and trending into the cache (reads never wait).",
            ),
            PeriodicJob(
                name="markets: cleanup quote history",
                task="markets.cleanup_quotes",
                crontab="30 3 * * *",
                expire_seconds=6 * 3600,
                description="Delete quote history older than MARKETS_QUOTE_HISTORY_DAYS.",
            ),
        ):
            register(job)

        # Wiring: these modules import models, so they load once the app registry is ready.
        from core.services import cache_snapshot_register, cache_warmer_register
        from streaming.services import provider_register

        from . import live, providers, services, streams

        provider_register(
            "quotes",
            snapshot=streams.quotes_snapshot,
            validate=streams.validate_channel,
            currency=streams.quotes_currency,
        )
        provider_register(
            "candles",
            snapshot=streams.candles_snapshot,
            validate=streams.validate_channel,
            currency=streams.candles_currency,
        )
        # Provider probes for /health/*, warmers and snapshots for the cache endpoints.
        register_probe("market_providers", providers.breaker_summary)
        for name in providers.ALL_PROVIDERS:
            register_external_probe(name, lambda name=name: providers.probe(name))
        cache_warmer_register("markets: price board", live.board_refresh)
        cache_warmer_register("markets: global and trending", services.market_overview_refresh)
        cache_snapshot_register("markets: price board", live.board_snapshot)
        cache_snapshot_register(
            "markets: global", lambda: services.market_overview_snapshot("global")
        )
        cache_snapshot_register(
            "markets: trending", lambda: services.market_overview_snapshot("trending")
        )
