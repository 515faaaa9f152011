"""Failover across market-data providers, and their operational figures.

``fetch_quotes`` tries the providers of ``MARKET_QUOTE_PROVIDERS`` in order: on a 429, a 5xx,
a timeout, garbage, an open breaker or a missing key the next one answers and the batch's
``fallback_reason`` says why (``"coingecko: 429 rate limited"``). When every provider fails,
``NoProviderAvailable`` is raised; callers serve the last known value marked stale, or a 503
with ``Retry-After``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError

from core.http import ProviderError, provider_http
from markets import selectors
from markets.clients import binance, coincap, coingecko, cryptocompare, replay
from markets.clients.config import HTTP_PROVIDERS
from markets.clients.known_assets import KNOWN_ASSETS, by_field
from markets.contracts import (
    AssetData,
    CandleData,
    GlobalData,
    ProviderAttempt,
    QuoteBatch,
    QuoteData,
    TrendingCoin,
)

ALL_PROVIDERS = (*HTTP_PROVIDERS, "replay")


class NoProviderAvailable(ProviderError):
    """Every provider failed; ``attempts`` holds each one's reason."""

    def __init__(self, attempts: Sequence[ProviderAttempt], *, retry_after: float) -> None:
        reason = (
            "; ".join(f"{a.provider}: {a.reason}" for a in attempts) or "no provider configured"
        )
        super().__init__("all", reason, retry_after=retry_after, counts=False)
        self.attempts = tuple(attempts)


# --- asset universe ---------------------------------------------------------------------
def _db_assets() -> list[AssetData]:
    """Assets the database knows (best rank first), as contracts; empty if none yet."""
    try:
        rows = list(selectors.asset_list(active_only=True).order_by("rank", "id"))
    except DatabaseError:  # no database yet: the built-in mapping still lets a sync start
        return []
    out = []
    for a in rows:
        out.append(
            AssetData(
                slug=a.id,
                symbol=a.symbol,
                name=a.name,
                rank=a.rank,
                coingecko_id=a.coingecko_id,
                binance_symbol=a.binance_symbol,
                coincap_id=a.coincap_id,
                cryptocompare_symbol=a.cryptocompare_symbol,
                categories=tuple(a.categories or ()),
                image_url=a.image_url,
            )
        )
    return out


def asset_universe(*, top: int = 50, ids: Sequence[str] | None = None) -> list[AssetData]:
    """Which assets to ask for: the database's mapping first, the built-in one for the rest."""
    merged: dict[str, AssetData] = {a.slug: a for a in _db_assets()}
    for slug, known in KNOWN_ASSETS.items():
        merged.setdefault(slug, known)
    if ids is not None:
        return [
            merged.get(i) or AssetData(slug=i, symbol=i.upper(), name=i, coingecko_id=i)
            for i in ids
        ]
    ranked = sorted(merged.values(), key=lambda a: (a.rank is None, a.rank or 0, a.slug))
    return ranked[:top]


# --- quote fetchers, one per provider --------------------------------------------------
def _coingecko_quotes(
    assets: list[AssetData], top: int, ids: Sequence[str] | None
) -> list[QuoteData]:
    if ids is None:
        quotes = coingecko.coins_markets(per_page=top)
    else:
        quotes = coingecko.coins_markets(
            ids=[a.coingecko_id or a.slug for a in assets], per_page=max(len(assets), 1)
        )
    # Map CoinGecko ids back to our slugs (they differ when the database says so).
    ours = by_field(assets, "coingecko_id")
    out = []
    for q in quotes:
        mine = ours.get(q.asset.coingecko_id)
        if mine is not None and mine.slug != q.asset.slug:
            q = replace(q, asset=replace(q.asset, slug=mine.slug))
        out.append(q)
    return out


def _binance_quotes(
    assets: list[AssetData], top: int, ids: Sequence[str] | None
) -> list[QuoteData]:
    return binance.ticker_24hr(assets=assets)


def _coincap_quotes(
    assets: list[AssetData], top: int, ids: Sequence[str] | None
) -> list[QuoteData]:
    return coincap.assets(assets=assets if ids is not None else None, limit=top)


def _cryptocompare_quotes(
    assets: list[AssetData], top: int, ids: Sequence[str] | None
) -> list[QuoteData]:
    return cryptocompare.price_multi_full(assets=assets)


_ANCHOR_TTL = 60.0
_anchor_cache: tuple[float, dict[str, replay.Anchor]] | None = None


def replay_anchors() -> dict[str, replay.Anchor]:
    """Where the replay continues from: each coin's last real stored price (cached a minute)."""
    global _anchor_cache
    now = time.monotonic()
    if _anchor_cache is not None and now - _anchor_cache[0] < _ANCHOR_TTL:
        return _anchor_cache[1]
    anchors = {
        slug: replay.Anchor(time=when, price=price)
        for slug, (when, price) in selectors.last_real_prices().items()
    }
    _anchor_cache = (now, anchors)
    return anchors


def reset_replay_anchors() -> None:
    global _anchor_cache
    _anchor_cache = None


def _replay_quotes(assets: list[AssetData], top: int, ids: Sequence[str] | None) -> list[QuoteData]:
    return replay.quotes(
        assets=assets if ids is not None else None, top=top, anchors=replay_anchors()
    )


def fetch_replay_candles(
    *, symbol: str, asset_id: str, interval: str, start: datetime, end: datetime
) -> list[CandleData]:
    """Candles cut from the replayed path (offline), continuing from the coin's last real price."""
    return replay.candles(
        symbol=symbol,
        step=selectors.INTERVAL_SECONDS[interval],
        start=start,
        end=end,
        anchor=replay_anchors().get(asset_id),
    )


QUOTE_FETCHERS: dict[
    str, Callable[[list[AssetData], int, Sequence[str] | None], list[QuoteData]]
] = {
    "coingecko": _coingecko_quotes,
    "binance": _binance_quotes,
    "coincap": _coincap_quotes,
    "cryptocompare": _cryptocompare_quotes,
    "replay": _replay_quotes,
}


def quote_provider_order() -> list[str]:
    return [p for p in settings.MARKET_QUOTE_PROVIDERS if p in QUOTE_FETCHERS]


def fetch_quotes(
    *, top: int = 50, ids: list[str] | None = None, provider: str | None = None
) -> QuoteBatch:
    """Quotes from the first provider that answers, with who failed before it and why."""
    if top < 1:
        raise ValueError("top must be >= 1")
    if provider is not None and provider not in QUOTE_FETCHERS:
        raise ValueError(f"unknown provider {provider!r}; choose from {', '.join(QUOTE_FETCHERS)}")
    order = [provider] if provider else quote_provider_order()
    assets = asset_universe(top=top, ids=ids)
    attempts: list[ProviderAttempt] = []
    waits: list[float] = []
    for name in order:
        try:
            quotes = QUOTE_FETCHERS[name](assets, top, ids)
        except ProviderError as exc:
            attempts.append(ProviderAttempt(provider=name, ok=False, reason=exc.reason))
            if exc.retry_after:
                waits.append(exc.retry_after)
            continue
        if not quotes:
            attempts.append(
                ProviderAttempt(provider=name, ok=False, reason="no quotes for these assets")
            )
            continue
        reason = "; ".join(f"{a.provider}: {a.reason}" for a in attempts)
        attempts.append(ProviderAttempt(provider=name, ok=True))
        seen: set[str] = set()
        unique = []
        for q in quotes:
            if q.asset.slug in seen:
                continue
            seen.add(q.asset.slug)
            unique.append(replace(q, fallback_reason=reason) if reason else q)
        return QuoteBatch(
            quotes=tuple(unique), source=name, fallback_reason=reason, attempts=tuple(attempts)
        )
    retry_after = min(waits) if waits else float(settings.PRICES_RETRY_AFTER_SECONDS)
    raise NoProviderAvailable(attempts, retry_after=max(retry_after, 1.0))


def fetch_klines(
    *, binance_symbol: str, interval: str, start: datetime, end: datetime
) -> list[CandleData]:
    """Closed candles from Binance klines (paged), ``start <= open_time <= end``."""
    return binance.klines_range(symbol=binance_symbol, interval=interval, start=start, end=end)


def fetch_global() -> GlobalData:
    return coingecko.global_data()


def fetch_trending() -> list[TrendingCoin]:
    return coingecko.trending()


# --- operations -------------------------------------------------------------------------
def _configured(name: str) -> tuple[bool, str]:
    if name == "coincap" and not coincap.configured():
        return False, coincap.NO_KEY_REASON
    if name == "replay" and not replay.available_symbols():
        return False, "no sample data (CRYPTOCAST_SAMPLE_DATA)"
    return True, ""


def rate_limit_status(name: str) -> dict[str, Any]:
    """Calls, 429s, failures, budget left, breaker state, last success of one provider."""
    if name not in ALL_PROVIDERS:
        raise KeyError(name)
    configured, note = _configured(name)
    if name == "replay":
        return {
            "provider": name,
            "configured": configured,
            "note": note or "local recorded data, no outbound requests",
            "breaker_state": "closed",
            "budget_left": None,
            "budget_limit": None,
        }
    body = provider_http(name).stats()
    body["configured"] = configured
    body["note"] = note
    return body


def rate_limit_status_all() -> list[dict[str, Any]]:
    return [rate_limit_status(name) for name in ALL_PROVIDERS]


def rate_limit_recommendations() -> list[dict[str, str]]:
    """Plain advice derived from the figures (shared across processes via the cache)."""
    out: list[dict[str, str]] = []
    for s in rate_limit_status_all():
        name = s["provider"]
        if not s.get("configured", True):
            out.append(
                {"provider": name, "severity": "info", "advice": f"{s['note']}; it is skipped."}
            )
            continue
        if name == "replay":
            continue
        calls = s.get("calls", 0) or 0
        limited = s.get("rate_limited", 0) or 0
        if s.get("breaker_state") == "open":
            out.append(
                {
                    "provider": name,
                    "severity": "critical",
                    "advice": (
                        f"Circuit open after repeated failures ({s.get('last_error')}); "
                        "quotes fail over to the next provider."
                    ),
                }
            )
        if calls and limited / calls > 0.05:
            out.append(
                {
                    "provider": name,
                    "severity": "warning",
                    "advice": (
                        f"{limited} of {calls} calls were rate limited: lower "
                        f"PROVIDER_BUDGETS[{name}] or the sync frequency, or add an API key."
                    ),
                }
            )
        left, limit = s.get("budget_left"), s.get("budget_limit")
        if left is not None and limit and left < 0.1 * limit:
            out.append(
                {
                    "provider": name,
                    "severity": "warning",
                    "advice": f"Only {left} of {limit} requests left in this window.",
                }
            )
    if not out:
        out.append({"provider": "all", "severity": "ok", "advice": "No action needed."})
    return out


def reset_stats(name: str | None = None) -> list[str]:
    """Zero the figures, close the breakers and refill the budgets (all or one provider)."""
    names = [name] if name else list(HTTP_PROVIDERS)
    for n in names:
        if n not in HTTP_PROVIDERS:
            raise KeyError(n)
        provider_http(n).reset(stats=True)
    return names


_PROBES: dict[str, Callable[[], object]] = {
    "coingecko": coingecko.ping,
    "binance": binance.ping,
    "coincap": lambda: coincap.assets(limit=1),
    "cryptocompare": lambda: cryptocompare.histoday(fsym="BTC", limit=1),
    "replay": lambda: replay.quotes(top=1),
}


def probe(name: str) -> dict[str, Any]:
    """One live request to the provider (through the breaker and the budget)."""
    if name not in ALL_PROVIDERS:
        raise KeyError(name)
    configured, note = _configured(name)
    if not configured:
        return {"provider": name, "ok": False, "configured": False, "reason": note}
    started = time.perf_counter()
    try:
        _PROBES[name]()
    except ProviderError as exc:
        return {
            "provider": name,
            "ok": False,
            "configured": True,
            "reason": exc.reason,
            "retry_after": exc.retry_after,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    return {
        "provider": name,
        "ok": True,
        "configured": True,
        "reason": "",
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def breaker_summary() -> dict[str, Any]:
    """Cheap health view for ``/health/detailed`` (no network): breaker states only."""
    states = {name: provider_http(name).breaker_state() for name in HTTP_PROVIDERS}
    open_ = [n for n, s in states.items() if s == "open"]
    usable = [n for n in quote_provider_order() if states.get(n, "closed") != "open"]
    return {"ok": bool(usable), "breakers": states, "open": open_, "quote_providers_usable": usable}
