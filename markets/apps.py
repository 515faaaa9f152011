from django.apps import AppConfig
from django.conf import settings

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

        # Wiring: streams, probes and cache hooks import models, so only once the registry is up.
        from . import hooks

        hooks.register()
