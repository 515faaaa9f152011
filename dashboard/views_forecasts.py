"""The forecasts page: the report card per coin and horizon, always beside naive.

Backtest figures come from the model manifest (walk-forward metrics of each champion version);
live figures from the forecast archive (issued forecasts scored against the closes that came).
Plots are the PNGs ``manage.py backtest`` writes, served from ``DASHBOARD_BACKTEST_PLOTS_DIR``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from forecasts import selectors as forecast_selectors
from markets import selectors as market_selectors

MAX_COINS = 20
PLOT_NAME = re.compile(r"^backtest[-_][A-Za-z0-9_.-]{1,120}\.png$")


def _coins() -> list[Any]:
    """Coins with a trained model (manifest) or an issued forecast, by market-cap rank."""
    catalogue = forecast_selectors.model_catalogue()
    found: dict[str, Any] = {}
    for node in catalogue["coins"]:
        try:
            asset = market_selectors.asset_get(node["key"])
        except market_selectors.AssetNotFound:
            continue
        found[asset.pk] = asset
    for asset in forecast_selectors.assets_with_forecasts(model="auto", limit=MAX_COINS):
        found.setdefault(asset.pk, asset)
    return sorted(found.values(), key=lambda a: (a.rank or 10**9, a.pk))[:MAX_COINS]


def _versions(catalogue: dict[str, Any], key: str) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for node in catalogue["coins"]:
        if node["key"] != key:
            continue
        for m in node["models"]:
            for v in m["versions"]:
                out[(m["model"], v["version"])] = v
    return out


def verdict(backtest: dict[str, Any] | None) -> str:
    """The backtest result against naive, in words (significance by Diebold-Mariano)."""
    if not backtest or backtest.get("rel_mae") is None:
        return "not measured"
    rel = float(backtest["rel_mae"])
    p = backtest.get("dm_p_better")
    p_text = f" (DM p = {p:.2f})" if isinstance(p, int | float) else ""
    if backtest.get("skill"):
        return f"beats naive: errors {100 * (1 - rel):.1f}% smaller, significant{p_text}"
    if rel < 1:
        return f"{100 * (1 - rel):.1f}% smaller errors than naive, not significant{p_text}"
    if rel == 1:
        return "is naive (the bar)"
    return f"no better than naive: errors {100 * (rel - 1):.1f}% larger"


def _rows(entries: list[dict[str, Any]], versions: dict) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        bt = e.get("backtest") or {}
        version = bt.get("version")
        info = versions.get((e["model"], version)) or {}
        da, lo, hi = (bt.get(k) for k in ("directional_accuracy", "da_ci_low", "da_ci_high"))
        base = bt.get("da_baseline")
        rows.append(
            {
                **e,
                "bt": bt,
                "live": e.get("live") or {},
                "verdict": verdict(e.get("backtest")),
                "version": version,
                "created_at": info.get("created_at"),
                "age_days": info.get("age_days"),
                "window": info.get("training_window") or {},
                "da": da,
                "da_lo": lo,
                "da_hi": hi,
                "da_base": base,
                "da_beats": bool(
                    isinstance(lo, int | float) and isinstance(base, int | float) and lo > base
                ),
                "cov": bt.get("coverage") or {},
            }
        )
    return rows


def _plots() -> list[dict[str, Any]]:
    folder = Path(settings.DASHBOARD_BACKTEST_PLOTS_DIR)
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.iterdir()):
        if PLOT_NAME.match(path.name) and path.is_file():
            made = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
            out.append({"name": path.name, "made": made})
    return out


def forecasts_page(request: HttpRequest) -> HttpResponse:
    coins = _coins()
    wanted = request.GET.get("coin") or ""
    asset = next((a for a in coins if wanted in (a.pk, a.symbol.lower())), None)
    if asset is None and coins:
        asset = coins[0]
    rows: list[dict[str, Any]] = []
    catalogue = forecast_selectors.model_catalogue()
    if asset is not None:
        [perf] = forecast_selectors.performance(assets=[asset])
        rows = _rows(perf["entries"], _versions(catalogue, str(asset.symbol).upper()))
    horizons = sorted({r["horizon"] for r in rows})
    skilled = [r for r in rows if r["bt"].get("skill") and r["model"] != "naive"]
    live_rows = [r for r in rows if r["live"].get("n")]
    return render(
        request,
        "dashboard/forecasts.html",
        {
            "coins": coins,
            "asset": asset,
            "rows": rows,
            "horizons": horizons,
            "skilled": skilled,
            "live_rows": live_rows,
            "manifest_updated_at": catalogue.get("manifest_updated_at"),
            "plots": _plots(),
        },
    )


def backtest_plot(request: HttpRequest, name: str) -> HttpResponse:
    """One PNG of the plots folder (names are checked: nothing else of the disk is served)."""
    if not PLOT_NAME.match(name):
        raise Http404("No such plot")
    path = Path(settings.DASHBOARD_BACKTEST_PLOTS_DIR) / name
    if not path.is_file():
        raise Http404("No such plot")
    response = FileResponse(path.open("rb"), content_type="image/png")
    response["Cache-Control"] = "public, max-age=3600"
    return response
