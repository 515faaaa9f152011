"""A coin's report as a PDF, made locally with matplotlib (no browser, no network).

Page 1: the last ``history_days`` daily closes with the served forecast and its 80 % / 95 %
bands. Page 2: the forecast's walk-forward skill beside the naive random walk's on the same
horizons, the forecast points, and where every number came from (source, as of). News and
sentiment are listed when the news app provides a selector for them (not yet: see
docs/accounts.md, *Known limits*).
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from forecasts import selectors
from markets import selectors as market_selectors


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def coin_report_pdf(
    *, asset: Any, days: int = 30, history_days: int = 120, now: datetime | None = None
) -> bytes:
    """Two A4 pages; the forecast is the served one (``auto``: best model with skill, else
    naive, labelled)."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    now = now or timezone.now()
    forecast = selectors.coin_forecast(asset=asset, model="auto", days=days, now=now)
    frame = market_selectors.candle_frame(asset=asset, start=now - timedelta(days=history_days))
    latest = market_selectors.candles(asset=asset).last()
    source = latest.source if latest is not None else "none"
    as_of = latest.open_time.date().isoformat() if latest is not None else "no data"

    buffer = io.BytesIO()
    metadata = {
        "Title": f"cryptocast report: {asset.name} ({asset.symbol})",
        "Creator": "cryptocast",
        "CreationDate": now,
    }
    with PdfPages(buffer, metadata=metadata) as pdf:
        # --- page 1: price and forecast band -------------------------------------------------
        fig = Figure(figsize=(8.27, 11.69))
        fig.suptitle(f"{asset.name} ({asset.symbol}) — report of {now:%Y-%m-%d %H:%M} UTC")
        ax = fig.add_axes((0.1, 0.45, 0.85, 0.45))
        if not frame.empty:
            ax.plot(frame.index, frame["close"], color="#1f4e79", lw=1.2, label="daily close")
        points = forecast["points"]
        if points:
            import pandas as pd

            dates = pd.to_datetime([p["date"] for p in points], utc=True)
            for level, alpha in (("95", 0.15), ("80", 0.3)):
                lower = [p["lower"].get(level) for p in points]
                upper = [p["upper"].get(level) for p in points]
                if all(v is not None for v in lower + upper):
                    ax.fill_between(
                        dates, lower, upper, color="#e07b00", alpha=alpha, label=f"{level}% band"
                    )
            ax.plot(dates, [p["point"] for p in points], color="#e07b00", lw=1.5, label="forecast")
        ax.set_ylabel("price (USDT)")
        ax.legend(loc="upper left", fontsize=8)
        ax.grid(alpha=0.3)
        lines = [
            f"Model served: {forecast['model']} (version {_fmt(forecast['version'])})",
            f"Issued: {_fmt(forecast['issued_at'])}; data until {_fmt(forecast['data_until'])}",
            f"Fallback: {forecast['fallback'] or 'none'}",
            f"Prices: source {source}, latest candle {as_of}",
        ]
        fig.text(0.1, 0.36, "\n".join(lines), fontsize=9, va="top", family="monospace")
        pdf.savefig(fig)

        # --- page 2: skill vs naive, points, provenance --------------------------------------
        fig = Figure(figsize=(8.27, 11.69))
        fig.suptitle(f"{asset.symbol}: skill against the naive random walk")
        skill, naive = forecast["skill"], forecast["naive_skill"]
        rows = [
            ["relMAE (vs naive)", _fmt(skill["rel_mae"]), _fmt(naive["rel_mae"])],
            ["MASE", _fmt(skill["mase"]), _fmt(naive["mase"])],
            [
                "directional accuracy",
                _fmt(skill["directional_accuracy"]),
                _fmt(naive["directional_accuracy"]),
            ],
            *[
                [
                    f"{lv}% coverage",
                    _fmt(skill["coverage"].get(lv)),
                    _fmt(naive["coverage"].get(lv)),
                ]
                for lv in sorted(skill["coverage"])
            ],
        ]
        ax = fig.add_axes((0.1, 0.62, 0.8, 0.28))
        ax.axis("off")
        ax.table(
            cellText=rows,
            colLabels=["metric (walk-forward)", str(forecast["model"]), "naive"],
            loc="upper center",
        )
        point_rows = [
            f"{p['date']}  h={p['horizon']:>2}  {p['point']:>14,.2f}"
            f"  80%: {_fmt(p['lower'].get('80'), 2)} .. {_fmt(p['upper'].get('80'), 2)}"
            for p in points[:20]
        ]
        text = "Forecast points (first 20):\n" + ("\n".join(point_rows) or "none issued")
        text += "\n\nNews and sentiment: not included in this build."
        text += (
            "\n\nSources: prices from stored candles (markets), forecasts from the archive"
            " (forecasts), skill from the model manifest's walk-forward metrics."
        )
        fig.text(0.1, 0.58, text, fontsize=8, va="top", family="monospace")
        pdf.savefig(fig)
    return buffer.getvalue()
