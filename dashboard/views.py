"""Dashboard pages: server-rendered (readable without JavaScript), live through small islands.

Thin entry points: they call selectors of the apps below and render; every figure on a page
carries its source and age, and every forecast says how it compares with naive.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from forecasts import selectors as forecast_selectors
from markets import selectors as market_selectors
from news import selectors as news_selectors

from .views_alerts import coin_actions

COIN_NEWS_LIMIT = 10

FORECAST_STALE_DAYS = 2


def markets_page(request: HttpRequest) -> HttpResponse:
    rows = market_selectors.latest_quote_payloads(top=50)
    market = market_selectors.global_market_from_db()
    movers = {
        name: market_selectors.latest_quote_payloads(
            ids=[a.pk for a in market_selectors.top_movers(category=name, window="24h", limit=5)]
        )
        for name in ("gainers", "losers")
    }
    for name, key in (("gainers", -1), ("losers", 1)):
        movers[name].sort(key=lambda d: key * (d["change_24h"] or 0))
    as_ofs = [r["as_of"] for r in rows if r.get("as_of")]
    return render(
        request,
        "dashboard/markets.html",
        {
            "rows": rows,
            "market": market,
            "movers": movers,
            "now": timezone.now(),
            "feed_stale": bool(rows) and all(r.get("stale") for r in rows),
            "feed_newest": max(as_ofs) if as_ofs else None,
            "stale_seconds": settings.MARKETS_QUOTE_STALE_SECONDS,
        },
    )


def skill_in_words(forecast: dict[str, Any], coin: str) -> list[str]:
    """What a forecast is worth, said plainly (relMAE vs naive and interval coverage)."""
    if not forecast.get("points"):
        return [f"No forecast has been issued for {coin} yet."]
    model = forecast.get("model")
    skill = forecast.get("skill") or {}
    rel = skill.get("rel_mae")
    lines = []
    if model == "naive":
        lines.append(
            f"This is the naive forecast (\u2018tomorrow = today\u2019) for {coin}: no model "
            "has beaten it on this coin, so it is what we serve. It is the bar every model "
            "is scored against."
        )
    elif rel is None:
        lines.append(f"The {model} model's skill against naive was not measured.")
    elif rel >= 0.995:
        lines.append(
            f"The {model} model is no better than \u2018tomorrow = today\u2019 on {coin}: "
            f"its walk-forward errors were {rel:.3f}\u00d7 those of the naive forecast."
        )
    else:
        lines.append(
            f"The {model} model's walk-forward errors on {coin} were {100 * (1 - rel):.1f}% "
            f"smaller than \u2018tomorrow = today\u2019 (relMAE {rel:.3f}); small edges like "
            "this are rarely significant on daily crypto prices."
        )
    coverage = skill.get("coverage") or {}
    c80, c95 = coverage.get("80") or coverage.get(80), coverage.get("95") or coverage.get(95)
    if c80 is not None and c95 is not None:
        lines.append(
            f"In the walk-forward test the 80% band held the price {100 * c80:.0f}% of the "
            f"time and the 95% band {100 * c95:.0f}%."
        )
    if forecast.get("fallback"):
        lines.append(f"Note: {forecast['fallback']}.")
    return lines


def coin_page(request: HttpRequest, asset_id: str) -> HttpResponse:
    try:
        asset = market_selectors.asset_get(asset_id)
    except market_selectors.AssetNotFound:
        raise Http404(f"No coin {asset_id!r}") from None
    quote = (market_selectors.latest_quote_payloads(ids=[asset.pk]) or [None])[0]
    coverage = {
        iv: market_selectors.candle_coverage(asset=asset, interval=iv, max_gaps=5)
        for iv in ("1d", "1h")
    }
    forecast = forecast_selectors.coin_forecast(asset=asset, model="auto", days=7)
    data_until = forecast.get("data_until")
    forecast_age_days = None
    if data_until:
        forecast_age_days = (timezone.now().date() - date.fromisoformat(data_until)).days
    return render(
        request,
        "dashboard/coin.html",
        {
            "asset": asset,
            "quote": quote,
            "coverage": coverage,
            "forecast": forecast,
            "forecast_words": skill_in_words(forecast, asset.name),
            "forecast_age_days": forecast_age_days,
            "forecast_stale": forecast_age_days is not None
            and forecast_age_days > FORECAST_STALE_DAYS,
            "stale_window": timedelta(days=FORECAST_STALE_DAYS),
            "news": list(news_selectors.article_list_filtered(coin=asset.pk)[:COIN_NEWS_LIMIT]),
            "actions": coin_actions(request, asset, quote["price"] if quote else None),
        },
    )
