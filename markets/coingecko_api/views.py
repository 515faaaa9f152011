"""Thin entry points of the CoinGecko-compatible API (plain Django views: CoinGecko's error
shape ``{"error": "..."}`` instead of our envelope, and no DRF schema: the contract is theirs).

Every answer carries our provenance in headers (``X-Cryptocast-Source``, ``-As-Of``,
``-Stale``) so the body stays byte-compatible with CoinGecko's. An API key may be given in
CoinGecko's own header or query-parameter names; a wrong key is a 401, no key is fine.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.services import api_key_authenticate
from core.errors import REPORT_RETRY_AFTER_SECONDS

from . import reads
from .reads import CgError, Provenance

KEY_HEADERS = ("HTTP_X_CG_DEMO_API_KEY", "HTTP_X_CG_PRO_API_KEY")
KEY_PARAMS = ("x_cg_demo_api_key", "x_cg_pro_api_key")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}$")
_DATE = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$")
MAX_IDS = 250


def _json(body: Any, *, status: int = 200, prov: Provenance | None = None) -> HttpResponse:
    data = json.dumps(body, separators=(",", ":"), allow_nan=False)
    response = HttpResponse(data, status=status, content_type="application/json; charset=utf-8")
    if prov is not None:
        response["X-Cryptocast-Source"] = prov.source
        response["X-Cryptocast-As-Of"] = (
            prov.as_of.astimezone(UTC).isoformat() if prov.as_of else ""
        )
        response["X-Cryptocast-Stale"] = "true" if prov.stale else "false"
    return response


def _error(status: int, message: str) -> HttpResponse:
    """CoinGecko's error shape (``{"error": ...}``); a 503 also says when to come back."""
    response = _json({"error": message}, status=status)
    if status == 503:
        response["Retry-After"] = str(REPORT_RETRY_AFTER_SECONDS)
    return response


def _check_key(request: HttpRequest) -> None:
    raw = next((request.META[h] for h in KEY_HEADERS if request.META.get(h)), None)
    raw = raw or next((request.GET[p] for p in KEY_PARAMS if request.GET.get(p)), None)
    if raw is None:
        return
    if api_key_authenticate(raw=raw.strip()) is None:
        raise CgError(401, "invalid api key")


def cg_view(fn: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @require_GET
    @wraps(fn)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _check_key(request)
            return fn(request, *args, **kwargs)
        except CgError as exc:
            return _error(exc.status, exc.message)

    return view


# --- parameter parsing (CoinGecko's names; a bad value is a 400 naming the parameter) ------
def _required(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name, "").strip()
    if not value:
        raise CgError(422, f"Missing parameter {name}")
    return value


def _bool(request: HttpRequest, name: str, default: bool) -> bool:
    value = request.GET.get(name)
    if value is None or value == "":
        return default
    if value.lower() in ("true", "1"):
        return True
    if value.lower() in ("false", "0"):
        return False
    raise CgError(400, f"invalid {name}")


def _int(request: HttpRequest, name: str, default: int, lo: int, hi: int) -> int:
    value = request.GET.get(name)
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError:
        raise CgError(400, f"invalid {name}") from None
    if not lo <= n <= hi:
        raise CgError(400, f"invalid {name}: between {lo} and {hi}")
    return n


def _list(value: str, *, name: str) -> list[str]:
    items = [p.strip().lower() for p in value.split(",") if p.strip()]
    if len(items) > MAX_IDS:
        raise CgError(400, f"invalid {name}: at most {MAX_IDS}")
    return list(dict.fromkeys(items))


def _ids(value: str) -> list[str]:
    ids = _list(value, name="ids")
    return [i for i in ids if _ID.match(i)]


def _coin(coin_id: str) -> str:
    coin_id = coin_id.lower()
    if not _ID.match(coin_id):
        raise CgError(404, "coin not found")
    return coin_id


def _days(request: HttpRequest) -> float | None:
    """``days``: a positive number or ``max`` (None)."""
    value = _required(request, "days").lower()
    if value == "max":
        return None
    try:
        days = float(value)
    except ValueError:
        raise CgError(400, "invalid days") from None
    if not 0 < days <= 36500:
        raise CgError(400, "invalid days")
    return days


# --- endpoints ----------------------------------------------------------------------------
@cg_view
def ping(request: HttpRequest) -> HttpResponse:
    return _json({"gecko_says": "(V3) To the Moon!"})


@cg_view
def simple_price(request: HttpRequest) -> HttpResponse:
    ids = _ids(_required(request, "ids"))
    vs = _list(_required(request, "vs_currencies"), name="vs_currencies")
    precision_raw = request.GET.get("precision", "")
    precision: int | None = None
    if precision_raw and precision_raw != "full":
        precision = _int(request, "precision", 0, 0, 18)
    body, prov = reads.simple_price(
        ids=ids,
        vs_currencies=vs,
        include_market_cap=_bool(request, "include_market_cap", False),
        include_24hr_vol=_bool(request, "include_24hr_vol", False),
        include_24hr_change=_bool(request, "include_24hr_change", False),
        include_last_updated_at=_bool(request, "include_last_updated_at", False),
        precision=precision,
    )
    return _json(body, prov=prov)


@cg_view
def supported_vs_currencies(request: HttpRequest) -> HttpResponse:
    return _json(reads.supported_vs_currencies())


@cg_view
def coins_list(request: HttpRequest) -> HttpResponse:
    return _json(reads.coins_list(include_platform=_bool(request, "include_platform", False)))


@cg_view
def coins_markets(request: HttpRequest) -> HttpResponse:
    vs = _required(request, "vs_currency").lower()
    order = request.GET.get("order") or "market_cap_desc"
    if order not in reads.ORDERS:
        raise CgError(400, "invalid order")
    windows = _list(request.GET.get("price_change_percentage", ""), name="price_change_percentage")
    if any(w not in reads.CHANGE_WINDOWS for w in windows):
        raise CgError(400, "invalid price_change_percentage")
    raw_ids = request.GET.get("ids", "")
    body, prov = reads.coins_markets(
        vs_currency=vs,
        ids=_ids(raw_ids) if raw_ids.strip() else None,
        category=request.GET.get("category") or None,
        order=order,
        per_page=_int(request, "per_page", 100, 1, settings.COINGECKO_COMPAT_MAX_PER_PAGE),
        page=_int(request, "page", 1, 1, 100_000),
        sparkline=_bool(request, "sparkline", False),
        price_change_percentage=windows,
    )
    return _json(body, prov=prov)


@cg_view
def coin_detail(request: HttpRequest, coin_id: str) -> HttpResponse:
    body, prov = reads.coin_detail(
        coin_id=_coin(coin_id),
        localization=_bool(request, "localization", True),
        tickers=_bool(request, "tickers", True),
        market_data=_bool(request, "market_data", True),
        sparkline=_bool(request, "sparkline", False),
    )
    return _json(body, prov=prov)


@cg_view
def coin_history(request: HttpRequest, coin_id: str) -> HttpResponse:
    coin_id = _coin(coin_id)
    m = _DATE.match(_required(request, "date"))
    try:
        if m is None:
            raise ValueError
        day = datetime(int(m[3]), int(m[2]), int(m[1]), tzinfo=UTC)
    except ValueError:
        raise CgError(400, "invalid date: use dd-mm-yyyy") from None
    body, prov = reads.coin_history(
        coin_id=coin_id, day=day, localization=_bool(request, "localization", True)
    )
    return _json(body, prov=prov)


def _interval(request: HttpRequest) -> str | None:
    value = (request.GET.get("interval") or "").lower() or None
    if value not in (None, "daily", "hourly", "5m"):
        raise CgError(400, "invalid interval")
    return value


@cg_view
def market_chart(request: HttpRequest, coin_id: str) -> HttpResponse:
    coin_id = _coin(coin_id)
    vs = _required(request, "vs_currency").lower()
    days = _days(request)
    now = timezone.now()
    start = now - timedelta(days=days) if days is not None else None
    body, prov = reads.market_chart(
        coin_id=coin_id, vs_currency=vs, start=start, end=now, interval=_interval(request)
    )
    return _json(body, prov=prov)


def _unix(request: HttpRequest, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(_required(request, name)), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise CgError(400, f"invalid {name}") from None


@cg_view
def market_chart_range(request: HttpRequest, coin_id: str) -> HttpResponse:
    coin_id = _coin(coin_id)
    vs = _required(request, "vs_currency").lower()
    start, end = _unix(request, "from"), _unix(request, "to")
    if end < start:
        raise CgError(400, "invalid to: before from")
    body, prov = reads.market_chart(
        coin_id=coin_id,
        vs_currency=vs,
        start=start,
        end=end,
        interval=_interval(request),
        live_tail=end >= timezone.now(),
    )
    return _json(body, prov=prov)


@cg_view
def coin_ohlc(request: HttpRequest, coin_id: str) -> HttpResponse:
    coin_id = _coin(coin_id)
    vs = _required(request, "vs_currency").lower()
    body, prov = reads.ohlc(coin_id=coin_id, vs_currency=vs, days=_days(request))
    return _json(body, prov=prov)


@cg_view
def global_(request: HttpRequest) -> HttpResponse:
    body, prov = reads.global_data()
    return _json(body, prov=prov)


@cg_view
def search_trending(request: HttpRequest) -> HttpResponse:
    body, prov = reads.trending()
    return _json(body, prov=prov)


@cg_view
def exchange_rates(request: HttpRequest) -> HttpResponse:
    body, prov = reads.exchange_rates()
    return _json(body, prov=prov)


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    return _error(404, "Incorrect path. Please check https://www.coingecko.com/api/")
