"""What markets plugs into the layers below it, registered from ``MarketsConfig.ready()``: the
stream channels (``quotes``, ``candles``), the provider probes of ``/health/*``, and the
warmers and snapshots of the cache endpoints (core and streaming never import markets)."""

from __future__ import annotations

from core.health import register_external_probe, register_probe
from core.services import cache_snapshot_register, cache_warmer_register
from streaming.services import provider_register

from . import live, providers, services, streams


def register() -> None:
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
    register_probe("market_providers", providers.breaker_summary)
    for name in providers.ALL_PROVIDERS:
        register_external_probe(name, lambda name=name: providers.probe(name))
    cache_warmer_register("markets: price board", live.board_refresh)
    cache_warmer_register("markets: global and trending", services.market_overview_refresh)
    cache_snapshot_register("markets: price board", live.board_snapshot)
    cache_snapshot_register("markets: global", lambda: services.market_overview_snapshot("global"))
    cache_snapshot_register(
        "markets: trending", lambda: services.market_overview_snapshot("trending")
    )
