"""Bodies of the CoinGecko-compatible API, built from our store.

Every price goes through ``markets.payloads.quote_payload()`` (the one quote shape) and
``markets.currency.convert_quote()`` (the one conversion); time series use the stored candles
and ``currency.rate_series``. Each read returns ``(body, Provenance)``: the body is
CoinGecko's shape, the provenance goes into response headers so the body stays compatible.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from fx import selectors as fx_selectors
from markets import currency, selectors, services
from markets.models import Asset, Candle
from markets.payloads import quote_payload

CG_CRYPTO_VS = ("btc", "eth", "ltc", "bch", "bnb", "eos", "xrp", "xlm", "link", "dot", "yfi")
ORDERS = ("market_cap_desc", "market_cap_asc", "volume_desc", "volume_asc", "id_asc", "id_desc")
CHANGE_WINDOWS = ("1h", "24h", "7d", "14d", "30d", "200d", "1y")
OUR_CHANGES = {"1h": "change_1h", "24h": "change_24h", "7d": "change_7d", "30d": "change_30d"}
FIAT_NAMES = {
    "usd": ("US Dollar", "$"),
    "eur": ("Euro", "€"),
    "gbp": ("British Pound Sterling", "£"),
    "jpy": ("Japanese Yen", "¥"),
    "chf": ("Swiss Franc", "Fr."),
    "cny": ("Chinese Yuan", "¥"),
    "cad": ("Canadian Dollar", "CA$"),
    "aud": ("Australian Dollar", "A$"),
    "myr": ("Malaysian Ringgit", "RM"),
}
STEP = {
    "5m": timedelta(minutes=5),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}


class CgError(Exception):
    """An answer in CoinGecko's error shape: ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Provenance:
    source: str
    as_of: datetime | None
    stale: bool

    @staticmethod
    def merge(items: Iterable[Provenance]) -> Provenance:
        items = list(items)
        sources = sorted({s for p in items for s in p.source.split(",") if s})
        times = [p.as_of for p in items if p.as_of is not None]
        return Provenance(
            source=",".join(sources) or "none",
            as_of=min(times) if times else None,
            stale=any(p.stale for p in items) or not items,
        )


NONE = Provenance(source="none", as_of=None, stale=True)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _datum_provenance(d: dict[str, Any]) -> Provenance:
    sources = [d.get("source") or ""]
    if d.get("rate_source") and d.get("vs") != currency.USD:
        sources.append(d["rate_source"])
    times = [t for t in (_parse_time(d.get("as_of")), _parse_time(d.get("rate_as_of"))) if t]
    return Provenance(
        source=",".join(s for s in sources if s) or "none",
        as_of=min(times) if times else None,
        stale=bool(d.get("stale")),
    )


def cg_time(dt: datetime | None) -> str | None:
    """CoinGecko's timestamp format: ``2021-05-15T15:58:12.266Z``."""
    if dt is None:
        return None
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def cg_id(asset: Asset) -> str:
    return asset.coingecko_id or asset.pk


def _rate_or_error(vs: str, *, at: datetime | None = None) -> currency.Rate:
    try:
        return currency.rate(vs, at=at)
    except currency.UnknownCurrency as exc:
        raise CgError(400, "invalid vs_currency") from exc


def _asset(coin_id: str) -> Asset:
    key = (coin_id or "").strip().lower()
    found = (
        Asset.objects.select_related("latest_quote")
        .filter(Q(pk=key) | Q(coingecko_id=key))
        .order_by("pk")
        .first()
    )
    if found is None:
        raise CgError(404, "coin not found")
    return found


def _assets(ids: Sequence[str]) -> dict[str, Asset]:
    """{requested id: asset} for CoinGecko ids (our slug or the mapped CoinGecko id)."""
    rows = Asset.objects.select_related("latest_quote").filter(
        Q(pk__in=list(ids)) | Q(coingecko_id__in=list(ids))
    )
    out: dict[str, Asset] = {}
    for asset in rows:
        for key in (asset.pk, asset.coingecko_id):
            if key in ids:
                out.setdefault(key, asset)
    return out


def _datum(asset: Asset, rate: currency.Rate, now: datetime) -> dict[str, Any]:
    return currency.convert_quote(
        quote_payload(asset=asset, quote=asset.latest_quote, now=now), rate
    )


def display_currencies() -> list[str]:
    """The currencies of CoinGecko's per-currency maps: usd, our fiat, and its crypto we price."""
    supported = set(currency.supported_currencies())
    fiat = [c for c in supported if c not in CG_CRYPTO_VS and c in _fiat_set()]
    crypto = [c for c in CG_CRYPTO_VS if c in supported]
    return [*crypto, currency.USD, *sorted(c for c in fiat if c != currency.USD)]


def _fiat_set() -> set[str]:
    return {currency.USD, *fx_selectors.supported_currencies()}


def _rates(codes: Iterable[str]) -> dict[str, currency.Rate]:
    out = {}
    for code in codes:
        try:
            out[code] = currency.rate(code)
        except currency.UnknownCurrency:
            continue
    return out


def _round(value: Any, precision: int | None) -> Any:
    if value is None or precision is None or not isinstance(value, float):
        return value
    return round(value, precision)


# --- simple --------------------------------------------------------------------------------
def simple_price(
    *,
    ids: Sequence[str],
    vs_currencies: Sequence[str],
    include_market_cap: bool = False,
    include_24hr_vol: bool = False,
    include_24hr_change: bool = False,
    include_last_updated_at: bool = False,
    precision: int | None = None,
) -> tuple[dict[str, Any], Provenance]:
    """``{id: {vs: price, vs_market_cap, vs_24h_vol, vs_24h_change, last_updated_at}}``.

    Like CoinGecko, unknown coins and unknown currencies are left out (not an error).
    """
    now = timezone.now()
    rates = _rates(dict.fromkeys(currency.normalise(v) for v in vs_currencies))
    body: dict[str, Any] = {}
    prov = []
    for requested, asset in sorted(_assets(ids).items(), key=lambda kv: ids.index(kv[0])):
        if asset.latest_quote is None:
            continue
        entry: dict[str, Any] = {}
        for vs, rate in rates.items():
            d = _datum(asset, rate, now)
            prov.append(_datum_provenance(d))
            entry[vs] = _round(d["price"], precision)
            if include_market_cap:
                entry[f"{vs}_market_cap"] = _round(d["market_cap"], precision)
            if include_24hr_vol:
                entry[f"{vs}_24h_vol"] = _round(d["volume_24h"], precision)
            if include_24hr_change:
                entry[f"{vs}_24h_change"] = _round(d["change_24h"], precision)
        if include_last_updated_at:
            entry["last_updated_at"] = int(asset.latest_quote.as_of.timestamp())
        body[requested] = entry
    return body, Provenance.merge(prov) if prov else NONE


def supported_vs_currencies() -> list[str]:
    return currency.supported_currencies()


# --- coins/list, coins/markets -------------------------------------------------------------
def coins_list(*, include_platform: bool = False) -> list[dict[str, Any]]:
    rows = []
    for asset in Asset.objects.filter(is_active=True).only("id", "symbol", "name", "coingecko_id"):
        row: dict[str, Any] = {
            "id": cg_id(asset),
            "symbol": asset.symbol.lower(),
            "name": asset.name,
        }
        if include_platform:
            row["platforms"] = {}
        rows.append(row)
    return sorted(rows, key=lambda r: r["id"])


def _in_category(asset: Asset, category: str) -> bool:
    return any(
        str(c).lower() == category or slugify(str(c)) == category for c in asset.categories or []
    )


def _sort_key(order: str) -> Any:
    field = "market_cap" if order.startswith("market_cap") else "volume_24h"

    def key(pair: tuple[Asset, dict[str, Any]]) -> Any:
        asset, d = pair
        if order.startswith("id"):
            return cg_id(asset)
        value = d.get(field)
        missing = value is None
        value = value or 0.0
        return (missing, -value if order.endswith("desc") else value, cg_id(asset))

    return key


def coins_markets(
    *,
    vs_currency: str,
    ids: Sequence[str] | None = None,
    category: str | None = None,
    order: str = "market_cap_desc",
    per_page: int = 100,
    page: int = 1,
    sparkline: bool = False,
    price_change_percentage: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], Provenance]:
    rate = _rate_or_error(vs_currency)
    now = timezone.now()
    qs = selectors.asset_list()
    if ids:
        qs = qs.filter(Q(pk__in=list(ids)) | Q(coingecko_id__in=list(ids)))
    assets = list(qs)
    if category:
        assets = [a for a in assets if _in_category(a, category.lower())]
    pairs = [(a, _datum(a, rate, now)) for a in assets]
    pairs.sort(key=_sort_key(order), reverse=order == "id_desc")
    pairs = pairs[(page - 1) * per_page : page * per_page]
    lines = selectors.sparkline_map(asset_ids=[a.pk for a, _ in pairs], days=7) if sparkline else {}
    rows = []
    for asset, d in pairs:
        row = _market_row(asset, d)
        if sparkline:
            row["sparkline_in_7d"] = {"price": [p * rate.per_usd for p in lines.get(asset.pk, [])]}
        for window in price_change_percentage:
            ours = OUR_CHANGES.get(window)
            row[f"price_change_percentage_{window}_in_currency"] = d.get(ours) if ours else None
        rows.append(row)
    prov = Provenance.merge(_datum_provenance(d) for _, d in pairs) if pairs else NONE
    return rows, prov


def _price_change(price: float | None, pct: float | None) -> float | None:
    if price is None or pct is None or pct <= -100:
        return None
    return price - price / (1 + pct / 100.0)


def _market_row(asset: Asset, d: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": cg_id(asset),
        "symbol": asset.symbol.lower(),
        "name": asset.name,
        "image": asset.image_url or "",
        "current_price": d["price"],
        "market_cap": d["market_cap"],
        "market_cap_rank": asset.rank,
        "fully_diluted_valuation": None,
        "total_volume": d["volume_24h"],
        "high_24h": d["high_24h"],
        "low_24h": d["low_24h"],
        "price_change_24h": _price_change(d["price"], d["change_24h"]),
        "price_change_percentage_24h": d["change_24h"],
        "market_cap_change_24h": None,
        "market_cap_change_percentage_24h": None,
        "circulating_supply": None,
        "total_supply": None,
        "max_supply": None,
        "ath": None,
        "ath_change_percentage": None,
        "ath_date": None,
        "atl": None,
        "atl_change_percentage": None,
        "atl_date": None,
        "roi": None,
        "last_updated": cg_time(_parse_time(d["as_of"])),
    }


# --- coins/{id} ----------------------------------------------------------------------------
def _image(asset: Asset, *, large: bool = True) -> dict[str, str]:
    url = asset.image_url or ""
    out = {"thumb": url, "small": url}
    if large:
        out["large"] = url
    return out


def coin_detail(
    *,
    coin_id: str,
    localization: bool = True,
    tickers: bool = True,
    market_data: bool = True,
    sparkline: bool = False,
) -> tuple[dict[str, Any], Provenance]:
    asset = _asset(coin_id)
    now = timezone.now()
    body: dict[str, Any] = {
        "id": cg_id(asset),
        "symbol": asset.symbol.lower(),
        "name": asset.name,
        "asset_platform_id": None,
        "platforms": {},
        "block_time_in_minutes": None,
        "hashing_algorithm": None,
        "categories": list(asset.categories or []),
        "public_notice": None,
        "additional_notices": [],
    }
    if localization:
        body["localization"] = {"en": asset.name}
    body["description"] = {"en": ""}
    body["image"] = _image(asset)
    body.update(
        country_origin=None,
        genesis_date=None,
        sentiment_votes_up_percentage=None,
        sentiment_votes_down_percentage=None,
        market_cap_rank=asset.rank,
        coingecko_rank=None,
        coingecko_score=None,
        developer_score=None,
        community_score=None,
        liquidity_score=None,
        public_interest_score=None,
    )
    prov = NONE
    if market_data:
        rates = _rates(display_currencies())
        data = {vs: _datum(asset, rate, now) for vs, rate in rates.items()}
        body["market_data"] = _coin_market_data(asset, data)
        if sparkline:
            line = selectors.sparkline_map(asset_ids=[asset.pk], days=7)[asset.pk]
            body["market_data"]["sparkline_7d"] = {"price": line}
        prov = Provenance.merge(_datum_provenance(d) for d in data.values()) if data else NONE
    quote = asset.latest_quote
    body["last_updated"] = cg_time(quote.as_of) if quote else None
    if tickers:
        body["tickers"] = []
    return body, prov


def _coin_market_data(asset: Asset, data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    usd = data.get(currency.USD) or {}

    def per(field: str) -> dict[str, Any]:
        return {vs: d.get(field) for vs, d in data.items()}

    return {
        "current_price": per("price"),
        "total_value_locked": None,
        "mcap_to_tvl_ratio": None,
        "fdv_to_tvl_ratio": None,
        "roi": None,
        "market_cap": per("market_cap"),
        "market_cap_rank": asset.rank,
        "total_volume": per("volume_24h"),
        "high_24h": per("high_24h"),
        "low_24h": per("low_24h"),
        "price_change_24h": _price_change(usd.get("price"), usd.get("change_24h")),
        "price_change_percentage_24h": usd.get("change_24h"),
        "price_change_percentage_7d": usd.get("change_7d"),
        "price_change_percentage_14d": None,
        "price_change_percentage_30d": usd.get("change_30d"),
        "price_change_percentage_60d": None,
        "price_change_percentage_200d": None,
        "price_change_percentage_1y": None,
        "market_cap_change_24h": None,
        "market_cap_change_percentage_24h": None,
        "price_change_24h_in_currency": {
            vs: _price_change(d.get("price"), d.get("change_24h")) for vs, d in data.items()
        },
        "price_change_percentage_1h_in_currency": per("change_1h"),
        "price_change_percentage_24h_in_currency": per("change_24h"),
        "price_change_percentage_7d_in_currency": per("change_7d"),
        "price_change_percentage_30d_in_currency": per("change_30d"),
        "total_supply": None,
        "max_supply": None,
        "circulating_supply": None,
        "last_updated": cg_time(_parse_time(usd.get("as_of"))),
    }


def coin_history(
    *, coin_id: str, day: datetime, localization: bool = True
) -> tuple[dict[str, Any], Provenance]:
    """The coin at 00:00 UTC of ``day``: the opening price of that day's daily candle."""
    asset = _asset(coin_id)
    body: dict[str, Any] = {"id": cg_id(asset), "symbol": asset.symbol.lower(), "name": asset.name}
    if localization:
        body["localization"] = {"en": asset.name}
    body["image"] = _image(asset, large=False)
    candle = Candle.objects.filter(asset=asset, interval="1d", open_time=day).first()
    if candle is None:
        return body, NONE
    prices, prov = {}, [Provenance(candle.source or "candles", candle.open_time, False)]
    for vs in display_currencies():
        try:
            rate = currency.rate(vs, at=day)
        except currency.UnknownCurrency:
            continue
        prices[vs] = candle.open * rate.per_usd
        if vs != currency.USD:
            prov.append(Provenance(rate.source, rate.as_of, rate.stale))
    body["market_data"] = {"current_price": prices, "market_cap": {}, "total_volume": {}}
    return body, Provenance.merge(prov)


# --- time series ---------------------------------------------------------------------------
def _candles(
    asset: Asset, intervals: Sequence[str], start: datetime, end: datetime
) -> tuple[str, list[Candle]]:
    """The first interval in ``intervals`` that has candles in ``[start, end]``."""
    for interval in intervals:
        rows = list(selectors.candles(asset=asset, interval=interval, start=start, end=end))
        if rows:
            return interval, rows
    return intervals[0], []


def _chart_intervals(span: timedelta, interval: str | None) -> tuple[str, ...]:
    if interval == "daily" or (interval is None and span > timedelta(days=90)):
        return ("1d", "1h")
    if interval == "hourly" or (interval is None and span > timedelta(days=1)):
        return ("1h", "4h", "1d")
    return ("5m", "1h", "4h", "1d")


def market_chart(
    *,
    coin_id: str,
    vs_currency: str,
    start: datetime | None,
    end: datetime,
    interval: str | None = None,
    live_tail: bool = True,
) -> tuple[dict[str, list[list[float]]], Provenance]:
    """``{"prices", "market_caps", "total_volumes"}`` of ``[ms, value]`` pairs.

    Points are stamped at each candle's close; ``total_volumes`` is the rolling 24 h quote
    volume (base volume x close). ``start`` None means everything we hold (``days=max``).
    """
    asset = _asset(coin_id)
    _rate_or_error(vs_currency)
    first = start or datetime(2009, 1, 3, tzinfo=UTC)
    span = end - first
    chosen, rows = _candles(asset, _chart_intervals(span, interval), first - timedelta(days=1), end)
    step = STEP.get(chosen, timedelta(days=1))
    rate_at = currency.rate_series(vs_currency, start=first - timedelta(days=1), end=end)
    prices, volumes = [], []
    window: list[tuple[datetime, float]] = []
    total = 0.0
    for c in rows:
        close_t = c.open_time + step
        qv = c.volume * c.close * rate_at(close_t)
        window.append((close_t, qv))
        total += qv
        while window and window[0][0] <= close_t - timedelta(hours=24):
            total -= window.pop(0)[1]
        if close_t < first or close_t > end:
            continue
        prices.append([_ms(close_t), c.close * rate_at(close_t)])
        volumes.append([_ms(close_t), total])
    prov = (
        [Provenance(",".join(sorted({c.source or "candles" for c in rows})), None, False)]
        if rows
        else []
    )
    if rows:
        last_close = rows[-1].open_time + step
        prov = [Provenance(prov[0].source, rows[-1].open_time, end - last_close > step * 2)]
    quote = asset.latest_quote
    if live_tail and quote is not None and (not prices or quote.as_of > rows[-1].open_time + step):
        rate = _rate_or_error(vs_currency)
        d = _datum(asset, rate, timezone.now())
        prices.append([_ms(quote.as_of), d["price"]])
        if d["volume_24h"] is not None:
            volumes.append([_ms(quote.as_of), d["volume_24h"]])
        prov.append(_datum_provenance(d))
    return (
        {"prices": prices, "market_caps": [], "total_volumes": volumes},
        Provenance.merge(prov) if prov else NONE,
    )


def _ohlc_plan(days: float | None) -> tuple[timedelta, tuple[str, ...]]:
    """CoinGecko's candle size by ``days`` and the stored intervals that can build it."""
    if days is not None and days <= 2:
        return timedelta(minutes=30), ("5m", "1h")
    if days is not None and days <= 30:
        return timedelta(hours=4), ("4h", "1h", "5m")
    return timedelta(days=4), ("1d",)


def ohlc(
    *, coin_id: str, vs_currency: str, days: float | None, now: datetime | None = None
) -> tuple[list[list[float]], Provenance]:
    """``[[close ms, open, high, low, close], ...]`` in CoinGecko's granularity for ``days``.

    Stored candles are merged into buckets of that size (aligned to the Unix epoch); a bucket
    is stamped with its close. A stored interval coarser than the bucket is served as is.
    """
    asset = _asset(coin_id)
    _rate_or_error(vs_currency)
    now = now or timezone.now()
    start = now - timedelta(days=days) if days is not None else datetime(2009, 1, 3, tzinfo=UTC)
    bucket, intervals = _ohlc_plan(days)
    chosen, rows = _candles(asset, intervals, start, now)
    step = STEP.get(chosen, timedelta(days=1))
    size = max(bucket, step)
    rate_at = currency.rate_series(vs_currency, start=start, end=now)
    out: list[list[float]] = []
    seconds = int(size.total_seconds())
    current: list[Any] | None = None
    for c in rows:
        b = int(c.open_time.timestamp()) // seconds * seconds
        if current is None or current[0] != b:
            if current is not None:
                out.append(_ohlc_row(current, seconds, rate_at))
            current = [b, c.open, c.high, c.low, c.close]
        else:
            current[2] = max(current[2], c.high)
            current[3] = min(current[3], c.low)
            current[4] = c.close
    if current is not None:
        out.append(_ohlc_row(current, seconds, rate_at))
    if not rows:
        return out, NONE
    sources = ",".join(sorted({c.source or "candles" for c in rows}))
    last_close = rows[-1].open_time + step
    return out, Provenance(sources, rows[-1].open_time, now - last_close > step * 2)


def _ohlc_row(b: list[Any], seconds: int, rate_at: Any) -> list[float]:
    close_t = datetime.fromtimestamp(b[0] + seconds, tz=UTC)
    r = rate_at(close_t)
    return [_ms(close_t), b[1] * r, b[2] * r, b[3] * r, b[4] * r]


# --- global, trending, exchange rates ------------------------------------------------------
def global_data() -> tuple[dict[str, Any], Provenance]:
    g = services.market_global()
    rates = _rates(display_currencies())
    cap, vol = g["total_market_cap"], g["total_volume_24h"]
    body = {
        "data": {
            "active_cryptocurrencies": g.get("active_cryptocurrencies"),
            "upcoming_icos": None,
            "ongoing_icos": None,
            "ended_icos": None,
            "markets": None,
            # An empty database has no totals yet: null per currency, not a crash.
            "total_market_cap": {
                vs: None if cap is None else cap * r.per_usd for vs, r in rates.items()
            },
            "total_volume": {
                vs: None if vol is None else vol * r.per_usd for vs, r in rates.items()
            },
            "market_cap_percentage": dict(g.get("dominance") or {}),
            "market_cap_change_percentage_24h_usd": g.get("market_cap_change_24h"),
            "updated_at": int((g.get("as_of") or timezone.now()).timestamp()),
        }
    }
    return body, Provenance(g.get("source") or "none", g.get("as_of"), bool(g.get("stale")))


def trending() -> tuple[dict[str, Any], Provenance]:
    t = services.market_trending(limit=15)
    coins = t["coins"]
    assets = _assets([c["id"] for c in coins])
    btc = _rates(["btc"]).get("btc")
    items = []
    for c in coins:
        asset = assets.get(c["id"])
        image = _image(asset) if asset else {"thumb": "", "small": "", "large": ""}
        price = c.get("price")
        if price is None and asset is not None and asset.latest_quote is not None:
            price = asset.latest_quote.price
        items.append(
            {
                "item": {
                    "id": c["id"],
                    "coin_id": None,
                    "name": c["name"],
                    "symbol": c["symbol"],
                    "market_cap_rank": c.get("rank"),
                    **image,
                    "slug": c["id"],
                    "price_btc": price * btc.per_usd if (price is not None and btc) else None,
                    "score": c["score"],
                }
            }
        )
    prov = Provenance(t.get("source") or "none", t.get("as_of"), bool(t.get("stale")))
    return {"coins": items, "exchanges": []}, prov


def exchange_rates() -> tuple[dict[str, Any], Provenance]:
    """``{"rates": {code: {name, unit, value, type}}}``, values per 1 BTC like CoinGecko's."""
    btc = _rates(["btc"]).get("btc")
    if btc is None:
        raise CgError(503, "exchange rates are not available yet")
    fiat = _fiat_set()
    rates = _rates(display_currencies())
    out: dict[str, Any] = {}
    for code, r in rates.items():
        value = r.per_usd / btc.per_usd
        if code in fiat:
            name, unit = FIAT_NAMES.get(code, (code.upper(), code.upper()))
            kind = "fiat"
        else:
            name, unit, kind = code.upper(), code.upper(), "crypto"
        out[code] = {"name": name, "unit": unit, "value": value, "type": kind}
    out["btc"] = {"name": "Bitcoin", "unit": "BTC", "value": 1.0, "type": "crypto"}
    prov = Provenance.merge(Provenance(r.source, r.as_of, r.stale) for r in rates.values())
    return {"rates": out}, prov
