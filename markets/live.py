"""Cache-first reads of live prices (the ``/api/v1/prices*`` and ``/quick/*`` endpoints).

Order of answers: L1 (in-process, ~2 s) -> L2 (Django cache = Redis in services mode) ->
the database's latest quotes (``markets.selectors``). Bodies are cached as rendered JSON bytes, so a
hit costs a dict lookup. When L2 is failing, answers built from the database are marked
``stale: true`` (the refresh pipeline runs through the same Redis) and, if even the database
fails, an expired L1 copy is served, also marked stale. Nothing at all -> ``NoPriceData``
(the view answers 503 with ``Retry-After``).

Every datum carries ``source``, ``as_of``, ``fetched_at``, ``stale`` and ``fallback_reason``.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.cache import CacheRead, TwoTierCache

from . import batching, currency, selectors
from .payloads import candle_payload, iso, quote_payload

logger = logging.getLogger("cryptocast.markets.live")

BOARD_SIZE = 250  # assets kept in the shared "board" that the cache-only reads use
_cache_lock = threading.Lock()
_cache: TwoTierCache | None = None


class UnknownAssets(LookupError):
    """None of the asked ids is an asset: a 404, not a wait-and-retry 503."""


class NoPriceData(LookupError):
    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class LiveBody:
    body: bytes
    tier: str  # l1, l2, db, l1-stale


def price_cache() -> TwoTierCache:
    """The process-wide two-tier cache of live price bodies (settings read on first use)."""
    global _cache
    with _cache_lock:
        if _cache is None:
            _cache = TwoTierCache(
                prefix="live",
                l1_ttl=settings.PRICES_L1_TTL_SECONDS,
                l2_backoff=settings.PRICES_L2_BACKOFF_SECONDS,
            )
        return _cache


def reset_price_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None


def quote_datum(
    quote: Any, *, now: datetime, force_stale: bool = False, rate: currency.Rate | None = None
) -> dict[str, Any]:
    datum = quote_payload(asset=quote.asset, quote=quote, now=now, force_stale=force_stale)
    return datum if rate is None else currency.convert_quote(datum, rate)


def _rate(vs: str) -> currency.Rate | None:
    """None for USD (the stored currency: bodies unchanged), else the rate of ``vs`` now."""
    return None if vs == currency.USD else currency.rate(vs)


def _dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()


def _mark_stale(body: bytes) -> bytes:
    payload = json.loads(body)
    for datum in _iter_data(payload):
        datum["stale"] = True
    payload["stale"] = True
    return _dumps(payload)


def _iter_data(payload: dict[str, Any]) -> list[dict[str, Any]]:
    data = payload.get("data")
    if isinstance(data, dict):
        return list(data.values())
    if isinstance(data, list):
        return data
    return []


def _retry_after() -> int:
    return int(settings.PRICES_RETRY_AFTER_SECONDS)


def _cached_or_build(key: str, build: Any, *, ttl: int | None = None) -> LiveBody:
    cache = price_cache()
    read: CacheRead = cache.get(key)
    if read.tier in ("l1", "l2"):
        return LiveBody(read.value, read.tier)
    try:
        body = build(force_stale=not read.l2_ok)
    except (NoPriceData, UnknownAssets):
        raise
    except Exception:
        if read.stale:
            logger.warning("live prices: database failed, serving an expired copy of %s", key)
            return LiveBody(_mark_stale(read.value), "l1-stale")
        raise
    cache.set(key, body, ttl=ttl or settings.PRICES_L2_TTL_SECONDS)
    return LiveBody(body, "db")


# --- /prices -------------------------------------------------------------------------------
def prices_key(*, ids: Sequence[str] | None, vs: str, limit: int) -> str:
    return f"prices:{vs}:{','.join(sorted(set(ids)))}" if ids else f"prices:{vs}:top{limit}"


def prices_snapshot(*, ids: Sequence[str] | None, vs: str = "usd", limit: int = 10) -> LiveBody:
    """``{"vs", "data": {id: datum}, "missing": [...]}`` for ``ids`` (or the top ``limit``)."""
    key = prices_key(ids=ids, vs=vs, limit=limit)

    def build(*, force_stale: bool) -> bytes:
        now = timezone.now()
        # Misses for different coins within a few ms share one store read (markets.batching).
        quotes = batching.latest_quotes(ids=ids) if ids else selectors.latest_quotes(top=limit)
        if not quotes:
            if ids and not selectors.assets_known(ids):
                raise UnknownAssets(f"No asset with id {', '.join(ids)}.")
            raise NoPriceData("No price is known yet for these assets.", retry_after=_retry_after())
        rate = _rate(vs)
        data = {
            q.asset.pk: quote_datum(q, now=now, force_stale=force_stale, rate=rate) for q in quotes
        }
        missing = [i for i in ids if i not in data] if ids else []
        if not price_cache().get("board:usd").hit:  # keep the cache-only reads usable
            board_refresh()
        return _dumps(
            {
                "vs": vs,
                "data": data,
                "missing": missing,
                "stale": any(d["stale"] for d in data.values()),
            }
        )

    return _cached_or_build(key, build)


# --- /prices/market -----------------------------------------------------------------------
def market_snapshot(*, limit: int = 50, vs: str = "usd") -> LiveBody:
    """Top ``limit`` assets by rank with their latest quote (a list)."""
    key = f"market:{vs}:{limit}"

    def build(*, force_stale: bool) -> bytes:
        now = timezone.now()
        quotes = selectors.latest_quotes(top=limit)
        if not quotes:
            raise NoPriceData("No market data yet.", retry_after=_retry_after())
        rate = _rate(vs)
        data = [quote_datum(q, now=now, force_stale=force_stale, rate=rate) for q in quotes]
        if rate is None:
            board_put(data)
        return _dumps(
            {"vs": vs, "count": len(data), "data": data, "stale": any(d["stale"] for d in data)}
        )

    return _cached_or_build(key, build)


# --- board for cache-only reads -----------------------------------------------------------
def board_put(data: list[dict[str, Any]]) -> None:
    """Refresh the shared board (used by the cache-only ``/quick/*`` reads)."""
    price_cache().set("board:usd", data, ttl=max(settings.PRICES_L2_TTL_SECONDS * 20, 600))


def board_refresh() -> int:
    """Rebuild the board from the database (e.g. after a sync); returns how many assets."""
    now = timezone.now()
    data = [quote_datum(q, now=now) for q in selectors.latest_quotes(top=BOARD_SIZE)]
    if data:
        board_put(data)
    return len(data)


def board_snapshot() -> dict[str, Any]:
    """What the cache holds of the board (``GET cache/smart``)."""
    read = price_cache().get("board:usd")
    if not read.hit:
        return {"present": False, "refreshed_by": "every /prices miss and every quote sync"}
    as_of = max((d["as_of"] for d in read.value if d.get("as_of")), default=None)
    age = None
    if as_of:
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


def quick_board() -> tuple[list[dict[str, Any]], str]:
    """Cache only, never the database: the last board, or ``NoPriceData``."""
    read = price_cache().get("board:usd")
    if not read.hit:
        raise NoPriceData("No cached prices right now.", retry_after=_retry_after())
    data: list[dict[str, Any]] = read.value
    now = timezone.now()
    limit = timedelta(seconds=settings.MARKETS_QUOTE_STALE_SECONDS)
    out = []
    for datum in data:
        as_of = datetime.fromisoformat(datum["as_of"].replace("Z", "+00:00"))
        out.append({**datum, "stale": bool(datum["stale"] or read.stale or now - as_of > limit)})
    return out, read.tier


def _convert_board(board: list[dict[str, Any]], rate: currency.Rate | None) -> list[dict[str, Any]]:
    """The board (stored USD) in ``rate.vs``: the one conversion, at read time."""
    if rate is None or rate.vs == currency.USD:
        return board
    return [currency.convert_quote(d, rate) for d in board]


def quick_prices(
    *, ids: Sequence[str] | None, limit: int = 10, rate: currency.Rate | None = None
) -> dict[str, Any]:
    """Cache only; in another currency the rate is the one validated with ``vs`` (fiat: the
    cached table of latest rates; crypto: that coin's stored quote)."""
    board, tier = quick_board()
    if ids:
        wanted = set(ids)
        data = {d["id"]: d for d in board if d["id"] in wanted}
        missing = [i for i in ids if i not in data]
    else:
        data = {d["id"]: d for d in board[:limit]}
        missing = []
    if not data:
        raise NoPriceData("No cached price for these assets.", retry_after=_retry_after())
    data = {d["id"]: d for d in _convert_board(list(data.values()), rate)}
    return {
        "vs": rate.vs if rate else currency.USD,
        "data": data,
        "missing": missing,
        "stale": any(d["stale"] for d in data.values()),
        "cache": tier,
    }


def quick_market(*, limit: int = 50, rate: currency.Rate | None = None) -> dict[str, Any]:
    board, tier = quick_board()
    data = _convert_board(board[:limit], rate)
    return {
        "vs": rate.vs if rate else currency.USD,
        "count": len(data),
        "data": data,
        "stale": any(d["stale"] for d in data),
        "cache": tier,
    }


# --- /prices/history/{id} ----------------------------------------------------------------
def price_history(*, asset: Any, interval: str, days: int, vs: str = currency.USD) -> LiveBody:
    """Candles of the last ``days`` from the database, with provenance, cached briefly (per
    ``vs``; in another currency each candle at its own day's rate, ``currency.convert_candles``)."""
    key = f"history:{asset.pk}:{interval}:{days}" + ("" if vs == currency.USD else f":{vs}")

    def build(*, force_stale: bool) -> bytes:
        now = timezone.now()
        step = timedelta(seconds=selectors.INTERVAL_SECONDS[interval])
        # The last ``days`` the store has (counted back from its newest candle when nothing is
        # recent), said by window/coverage/stale; 503 only when there is nothing at all.
        end = now
        rows = list(
            selectors.candles(
                asset=asset, interval=interval, start=end - timedelta(days=days), end=end
            )
        )
        if not rows:
            newest = selectors.latest_candle_time(asset=asset, interval=interval)
            if newest is not None:
                end = newest + step
                start = end - timedelta(days=days)
                rows = list(selectors.candles(asset=asset, interval=interval, start=start, end=end))
        if not rows:
            raise NoPriceData(f"No {interval} candles for {asset.pk}.", retry_after=_retry_after())
        last = rows[-1]
        expected = max(int(timedelta(days=days) / step), 1)
        stale = force_stale or (now - (last.open_time + step)) > max(
            step * 2, timedelta(seconds=settings.MARKETS_QUOTE_STALE_SECONDS)
        )
        points = [candle_payload(c) for c in rows]
        sources = sorted({c.source for c in rows})
        extra: dict[str, Any] = {}
        if vs != currency.USD:
            points, extra = currency.convert_candles(points, vs=vs)
        return _dumps(
            {
                "id": asset.pk,
                **extra,
                "interval": interval,
                "count": len(points),
                "source": ",".join(sources),
                "as_of": iso(last.open_time),
                "fetched_at": iso(now),
                "stale": bool(stale),
                "fallback_reason": "",
                "window": {
                    "start": iso(end - timedelta(days=days)),
                    "end": iso(end),
                    "expected": expected,
                    "coverage": round(min(len(points) / expected, 1.0), 4),
                    "age_seconds": round((now - (last.open_time + step)).total_seconds(), 1),
                },
                "data": points,
            }
        )

    return _cached_or_build(key, build, ttl=60)
