"""Reports as PDF, made locally with matplotlib (no browser, no network).

A coin (``coin_report_pdf``). Page 1: the last ``history_days`` daily closes with the served
forecast and its 80 % / 95 % bands. Page 2: the forecast's walk-forward skill beside the naive
random walk's on the same horizons, the forecast points, and where every number came from
(source, as of). Page 3: the coin's recent news with each article's sentiment, and the
sentiment of the last 7 days against the 7 before (news selectors).

A coin's backtest (``coin_backtest_pdf``: the walk-forward metrics of its champion models in the
manifest), drawn by ``forecasts.engine.report.backtest_pdf`` as a ``manage.py backtest``
report's PDF is (``backtest_report_pdf``, beside the report's markdown and plots): relMAE vs
naive per model and horizon as bars, then the metrics table.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from django.utils import timezone

from forecasts import selectors
from forecasts.engine.report import A4, backtest_pdf
from markets import selectors as market_selectors
from news import selectors as news_selectors

NEWS_ITEMS = 15


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
    # deferred: matplotlib is imported only by the processes that draw
    from matplotlib.backends.backend_pdf import PdfPages

    # deferred: as above
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
        text += "\n\nNews and sentiment: page 3."
        text += (
            "\n\nSources: prices from stored candles (markets), forecasts from the archive"
            " (forecasts), skill from the model manifest's walk-forward metrics."
        )
        fig.text(0.1, 0.58, text, fontsize=8, va="top", family="monospace")
        pdf.savefig(fig)

        # --- page 3: recent news and sentiment -----------------------------------------------
        pdf.savefig(_news_page(asset))
    return buffer.getvalue()


def _clip(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _news_page(asset: Any) -> Any:
    # deferred: matplotlib is imported only by the processes that draw
    from matplotlib.figure import Figure

    fig = Figure(figsize=A4)
    fig.suptitle(f"{asset.symbol}: recent news and sentiment")
    overview = news_selectors.sentiment_overview(window="7d", coin=asset.pk)
    mine = next((c for c in overview["coins"] if c["coin"] == asset.pk), None)
    lines = []
    if mine is None:
        lines.append("Sentiment, last 7 days: no articles about this coin in the window.")
    else:
        lines += [
            f"Sentiment, 7 days to {overview['window_end']:%Y-%m-%d %H:%M} UTC: "
            f"{mine['count']} articles, mean score {_fmt(mine['mean_score'])} "
            f"(previous 7 days {_fmt(mine['previous']['mean_score'])}, "
            f"trend {_fmt(mine['trend'])})",
            f"  positive {mine['positive']}, neutral {mine['neutral']}, "
            f"negative {mine['negative']}; scorer: {overview['scorer'] or '–'}",
        ]
    articles = list(news_selectors.article_list_filtered(coin=asset.pk)[:NEWS_ITEMS])
    lines += ["", f"Latest {len(articles)} articles (newest first):", ""]
    for article in articles:
        lines.append(
            f"{article.published_at:%Y-%m-%d %H:%M}  {article.sentiment_label:<8}"
            f" {article.sentiment_score:+.2f}  {_clip(article.source.name, 18):<18}"
        )
        lines.append(f"    {_clip(article.title, 86)}")
    if not articles:
        lines.append("No stored articles mention this coin.")
    lines += [
        "",
        "Sentiment is a lexicon score of each headline and summary (-1..+1), labelled",
        "negative / neutral / positive; it was checked against human labels (docs/news.md).",
    ]
    fig.text(0.07, 0.9, "\n".join(lines), fontsize=8, va="top", family="monospace")
    return fig


# --- backtest reports (the renderer is the engine's, beside the report's markdown and plots) ----


def coin_backtest_pdf(*, asset: Any, now: datetime | None = None) -> bytes:
    """The walk-forward backtest of a coin's champion models (the manifest's metrics)."""
    entries = selectors.performance(assets=[asset])[0]["entries"]
    metrics = [
        {**(e["backtest"] or {}), "model": e["model"], "horizon": e["horizon"]}
        for e in entries
        if e.get("backtest")
    ]
    versions = sorted({f"{m['model']} {m.get('version')}" for m in metrics})
    about = [
        f"Coin: {asset.name} ({asset.symbol}), champion version of each model:",
        *[f"  {v}" for v in versions],
        "Walk-forward (expanding window) on the last test origins before training;",
        "every model is scored against naive on the same origins.",
    ]
    if not metrics:
        about.append("No trained model with walk-forward metrics for this coin yet.")
    return backtest_pdf(
        title=f"cryptocast backtest: {asset.name} ({asset.symbol})",
        about=about,
        metrics=metrics,
        now=now,
    )
