"""Reports as PDF, made locally with matplotlib (no browser, no network).

A coin (``coin_report_pdf``). Page 1: the last ``history_days`` daily closes with the served
forecast and its 80 % / 95 % bands. Page 2: the forecast's walk-forward skill beside the naive
random walk's on the same horizons, the forecast points, and where every number came from
(source, as of). Page 3: the coin's recent news with each article's sentiment, and the
sentiment of the last 7 days against the 7 before (news selectors).

A backtest (``backtest_report_pdf`` for a ``manage.py backtest`` report.json,
``coin_backtest_pdf`` for the walk-forward metrics of a coin's champion models in the
manifest). Page 1: relMAE vs naive per model and horizon as bars beside the line at 1 (the
random walk), with what was run. Then the table: n, relMAE, MASE, directional accuracy with
its 95 % CI, interval coverage and the Diebold-Mariano p-value vs naive, 30 rows a page.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from forecasts import selectors
from markets import selectors as market_selectors
from news import selectors as news_selectors

A4 = (8.27, 11.69)
NEWS_ITEMS = 15
TABLE_ROWS_PER_PAGE = 30


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


# --- backtest reports -----------------------------------------------------------------------------


def _cell(value: Any, fmt: str = "{:.3f}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return fmt.format(value)
    return str(value)


def _table_row(m: dict[str, Any], levels: list[str]) -> list[str]:
    da = _cell(m.get("directional_accuracy"), "{:.2f}")
    if m.get("da_ci_low") is not None:
        da += f" [{_cell(m.get('da_ci_low'), '{:.2f}')}–{_cell(m.get('da_ci_high'), '{:.2f}')}]"
    cov = [_cell(m.get(f"coverage_{lv}"), "{:.2f}") for lv in levels]
    return [
        str(m["model"]),
        str(m["horizon"]),
        _cell(m.get("n"), "{:.0f}"),
        _cell(m.get("rel_mae")),
        _cell(m.get("mase"), "{:.2f}"),
        da,
        *cov,
        _cell(m.get("dm_p_better"), "{:.3f}"),
        _cell(m.get("skill")),
    ]


def backtest_pdf(
    *, title: str, about: list[str], metrics: list[dict[str, Any]], now: datetime | None = None
) -> bytes:
    """The PDF of flat walk-forward metrics rows (``model``, ``horizon``, ``rel_mae``, ``mase``,
    ``directional_accuracy``, ``coverage_<level>``, ``dm_p_better``, ``skill``...)."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    now = now or timezone.now()
    rows = sorted(metrics, key=lambda m: (int(m["horizon"]), str(m["model"])))
    levels = sorted(
        {k.split("_")[1] for m in rows for k in m if re.fullmatch(r"coverage_\d+", k)},
        key=int,
    )
    buffer = io.BytesIO()
    metadata = {"Title": title, "Creator": "cryptocast", "CreationDate": now}
    with PdfPages(buffer, metadata=metadata) as pdf:
        fig = Figure(figsize=A4)
        fig.suptitle(f"{title}\nreport of {now:%Y-%m-%d %H:%M} UTC", fontsize=11)
        ax = fig.add_axes((0.1, 0.5, 0.85, 0.36))
        horizons = sorted({int(m["horizon"]) for m in rows})
        models = sorted({str(m["model"]) for m in rows})
        width = 0.8 / max(len(models), 1)
        for i, model in enumerate(models):
            by_h = {int(m["horizon"]): m.get("rel_mae") for m in rows if m["model"] == model}
            xs = [j + i * width for j, h in enumerate(horizons)]
            ys = [by_h.get(h) if by_h.get(h) is not None else float("nan") for h in horizons]
            ax.bar(xs, ys, width=width, label=model)
        ax.axhline(1.0, color="black", lw=1, ls="--", label="naive (random walk)")
        ax.set_xticks([j + 0.4 - width / 2 for j in range(len(horizons))])
        ax.set_xticklabels([f"h={h}d" for h in horizons])
        ax.set_ylabel("relMAE vs naive (< 1 beats naive)")
        ax.legend(fontsize=7, ncol=3, loc="upper left")
        ax.grid(alpha=0.3, axis="y")
        if not rows:
            ax.text(0.5, 0.5, "No walk-forward metrics", ha="center", transform=ax.transAxes)
        fig.text(0.1, 0.43, "\n".join(about), fontsize=8, va="top", family="monospace")
        pdf.savefig(fig)

        head = ["model", "h", "n", "relMAE", "MASE", "DA [95% CI]"]
        head += [f"cov {lv}" for lv in levels] + ["DM p", "skill"]
        for start in range(0, max(len(rows), 1), TABLE_ROWS_PER_PAGE):
            chunk = rows[start : start + TABLE_ROWS_PER_PAGE]
            fig = Figure(figsize=A4)
            fig.suptitle(f"Walk-forward metrics vs naive (rows {start + 1}–{start + len(chunk)})")
            ax = fig.add_axes((0.04, 0.1, 0.92, 0.82))
            ax.axis("off")
            cells = [_table_row(m, levels) for m in chunk] or [["–"] * len(head)]
            table = ax.table(cellText=cells, colLabels=head, loc="upper center")
            table.auto_set_font_size(False)
            table.set_fontsize(7)
            fig.text(
                0.04,
                0.06,
                "relMAE = MAE / MAE(naive) on the same origins. DA = directional accuracy. "
                "cov = share of actuals inside the interval.\nDM p = Diebold-Mariano (HLN) "
                "p-value that the model beats naive; skill = relMAE < 1 and DM p < 0.05.",
                fontsize=7,
                va="top",
            )
            pdf.savefig(fig)
    return buffer.getvalue()


def backtest_report_pdf(report: dict[str, Any], *, now: datetime | None = None) -> bytes:
    """A ``manage.py backtest`` report (report.json) as PDF: the across-coins rows."""
    cfg = report.get("config") or {}
    metrics = [m for m in report.get("metrics") or [] if m.get("symbol") == "ALL"]
    about = [
        f"Coins: {', '.join(cfg.get('symbols') or []) or '–'}",
        f"Models: {', '.join(sorted({str(m['model']) for m in metrics})) or '–'}",
        f"Horizons (days): {', '.join(str(h) for h in cfg.get('horizons') or [])}",
        f"First origin {cfg.get('test_start', '–')}, last {cfg.get('test_end') or 'latest'};"
        f" refit every {cfg.get('refit_every', '–')} days; expanding window",
        f"Data: {cfg.get('data', '–')}",
        "Figures across coins: relMAE is the geometric mean over coins.",
    ]
    return backtest_pdf(title="cryptocast backtest", about=about, metrics=metrics, now=now)


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
