from django.apps import AppConfig


class MarketsConfig(AppConfig):
    name = "markets"
    verbose_name = "Markets"

    def ready(self) -> None:
        from django.conf import settings

        from core.schedules import PeriodicJob, register

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

        from streaming.services import provider_register

        from . import streams

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

        from core.health import register_probe

        register_probe("market_providers", _providers_probe)
        _register_ops()


def _register_ops() -> None:
    """Provider probes for /health/api, warmers and snapshots for the cache endpoints."""
    from core.health import register_external_probe
    from core.services import cache_snapshot_register, cache_warmer_register
    from markets import live, providers, services

    for name in providers.ALL_PROVIDERS:
        register_external_probe(name, lambda name=name: providers.probe(name))
    cache_warmer_register("markets: price board", live.board_refresh)
    cache_warmer_register("markets: global and trending", services.market_overview_refresh)
    cache_snapshot_register("markets: price board", _board_snapshot)
    cache_snapshot_register("markets: global", lambda: _overview_snapshot("global"))
    cache_snapshot_register("markets: trending", lambda: _overview_snapshot("trending"))


def _board_snapshot() -> dict:
    from django.conf import settings
    from django.utils import timezone

    from markets import live

    read = live.price_cache().get("board:usd")
    if not read.hit:
        return {"present": False, "refreshed_by": "every /prices miss and every quote sync"}
    as_of = max((d["as_of"] for d in read.value if d.get("as_of")), default=None)
    age = None
    if as_of:
        from datetime import datetime

        newest = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        age = round((timezone.now() - newest).total_seconds(), 1)
    return {
        "present": True,
        "tier": read.tier,
        "entries": len(read.value),
        "data_age_seconds": age,
        "stale": read.stale or (age is not None and age > settings.MARKETS_QUOTE_STALE_SECONDS),
        "refreshed_by": "every /prices miss and every quote sync (beat: quotes top 50, 60 s)",
    }


def _overview_snapshot(part: str) -> dict:
    from django.conf import settings
    from django.core.cache import cache
    from django.utils import timezone

    from markets import selectors

    key = selectors.GLOBAL_KEY if part == "global" else selectors.TRENDING_KEY
    ttl = (
        settings.MARKETS_GLOBAL_TTL_SECONDS
        if part == "global"
        else settings.MARKETS_TRENDING_TTL_SECONDS
    )
    try:
        value = cache.get(key)
        failed = cache.get(key + ":failed")
    except Exception as exc:
        return {"present": False, "error": exc.__class__.__name__}
    body: dict = {"present": value is not None, "ttl_seconds": ttl, "last_failure": failed}
    if value is not None:
        age = (timezone.now() - value["fetched_at"]).total_seconds()
        body.update(
            source=value["source"],
            age_seconds=round(age, 1),
            next_refresh_in_seconds=round(max(ttl - age, 0.0), 1),
        )
    body["refreshed_by"] = "beat: markets: market overview (120 s), or the first read past the TTL"
    return body


def _providers_probe() -> dict:
    """Breaker states of the market-data providers (no network: /health/detailed stays cheap)."""
    from markets.providers import breaker_summary

    return breaker_summary()
