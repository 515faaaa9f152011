"""A backtest report rendered: its markdown summary, PNG plots (matplotlib, Agg backend) and PDF.

The PDF (``backtest_report_pdf`` for a ``manage.py backtest`` report.json; ``backtest_pdf`` for
any flat metrics rows, e.g. a coin's champion models in ``forecasts.reports``). Page 1: relMAE
vs naive per model and horizon as bars beside the line at 1 (the random walk), with what was
run. Then the table: n, relMAE, MASE, directional accuracy with its 95 % CI, interval coverage
and the Diebold-Mariano p-value vs naive, 30 rows a page.
"""

from __future__ import annotations

import copy
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .forecaster import EngineError

A4 = (8.27, 11.69)
TABLE_ROWS_PER_PAGE = 30


def _f(value: Any, fmt: str = "{:.3f}") -> str:
    return (
        "–" if value is None or (isinstance(value, float) and value != value) else fmt.format(value)
    )


def markdown_summary(report: Mapping[str, Any]) -> str:
    """The summary table (per model x horizon across coins) plus per-coin relMAE."""
    cfg = report["config"]
    metrics = pd.DataFrame(report["metrics"])
    levels = [int(x) for x in cfg["levels"]]
    lines = [
        "# Backtest summary",
        "",
        f"Walk-forward, expanding window, refit every {cfg['refit_every']} days"
        + (f" (overrides: {cfg['refit_overrides']})" if cfg.get("refit_overrides") else "")
        + f"; first origin {cfg['test_start']}; symbols: {', '.join(cfg['symbols'])}; "
        f"horizons: {', '.join(str(h) for h in cfg['horizons'])} days.",
        "relMAE = MAE / MAE(naive) on the same origins (geometric mean over coins, min–max in "
        "brackets; < 1 is better than the random walk). DA = directional accuracy (95% Wilson "
        "CI) vs the majority-class baseline of the training period. Coverage = share of actuals "
        "inside the conformal interval; 'volatile' = the most volatile third of origin days. "
        "Skill = coins where relMAE < 1 and the Diebold-Mariano test (HLN) vs naive has p < 0.05.",
        "",
    ]
    if metrics.empty:
        return "\n".join([*lines, "No forecasts were scored."])
    allrows = metrics[metrics["symbol"] == "ALL"]
    head = (
        "| model | h | n | relMAE [min–max] | MASE | DA [95% CI] | DA baseline | "
        + " | ".join(f"cov {lv}" for lv in levels)
        + " | cov 90 volatile | width 90 (% of price) | coins with skill | Sharpe (buy&hold) |"
    )
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for r in allrows.to_dict("records"):
        cov = " | ".join(_f(r.get(f"coverage_{lv}"), "{:.2f}") for lv in levels)
        g = r.get
        cells = [
            str(r["model"]),
            str(r["horizon"]),
            str(r["n"]),
            f"{_f(g('rel_mae'))} [{_f(g('rel_mae_min'))}–{_f(g('rel_mae_max'))}]",
            _f(g("mase"), "{:.2f}"),
            f"{_f(g('directional_accuracy'))} [{_f(g('da_ci_low'))}–{_f(g('da_ci_high'))}]",
            _f(g("da_baseline")),
            cov,
            _f(g("coverage_90_volatile"), "{:.2f}"),
            _f(g("width_90_pct"), "{:.1f}"),
            f"{int(g('symbols_with_skill') or 0)}/{int(g('symbols') or 0)}",
            f"{_f(g('strategy_sharpe'), '{:.2f}')} ({_f(g('strategy_buy_hold_sharpe'), '{:.2f}')})",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    per = metrics[metrics["symbol"] != "ALL"]
    if not per.empty:
        pivot = per.pivot_table(index=["model", "horizon"], columns="symbol", values="rel_mae")
        lines += ["", "## relMAE vs naive per coin", ""]
        cols = list(pivot.columns)
        lines.append("| model | h | " + " | ".join(cols) + " |")
        lines.append("|" + "---|" * (len(cols) + 2))
        for (model, h), row in pivot.iterrows():
            row_text = " | ".join(_f(row[c]) for c in cols)
            lines.append(f"| {model} | {h} | {row_text} |")
    autos = per[per["model"] == "auto"] if "model" in per else per.iloc[0:0]
    if not autos.empty and "auto_choices" in autos:
        lines += ["", "## What `auto` chose (origins per model)", ""]
        for r in autos.to_dict("records"):
            choices = r.get("auto_choices") or {}
            text = ", ".join(f"{k} {v}" for k, v in sorted(choices.items(), key=lambda kv: -kv[1]))
            lines.append(f"- {r['symbol']} h={r['horizon']}: {text}")
    warnings = report.get("warnings") or []
    lines += ["", "## Leakage warnings", ""]
    lines += [f"- {w}" for w in warnings] or ["None: no model has relMAE < 0.95 on any coin."]
    return "\n".join(lines) + "\n"


def write_plots(report: Mapping[str, Any], out_dir: Path, stem: str) -> list[Path]:
    """Forecast-vs-actual with bands (per coin and horizon) and a skill-vs-naive chart."""
    # deferred: matplotlib is imported only by the processes that draw
    import matplotlib

    matplotlib.use("Agg")
    # deferred: as above, and only once the Agg backend is chosen
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    paths: list[Path] = []
    fc = pd.DataFrame(report["forecasts"])
    metrics = pd.DataFrame(report["metrics"])
    if fc.empty:
        return paths
    models = list(dict.fromkeys(fc["model"]))
    shown = next((m for m in ("auto", *models) if m in models and m != "naive"), models[0])
    for (symbol, h), g in fc[fc["model"] == shown].groupby(["symbol", "horizon"]):
        g = g.sort_values("target")
        x = pd.to_datetime(g["target"])
        fig, ax = plt.subplots(figsize=(10, 4))
        for lv, alpha in (("95", 0.15), ("80", 0.3)):
            lo = g["lower"].map(lambda d, lv=lv: d.get(lv))
            hi = g["upper"].map(lambda d, lv=lv: d.get(lv))
            if lo.notna().all():
                ax.fill_between(x, lo, hi, alpha=alpha, color="tab:blue", label=f"{lv}% interval")
        ax.plot(x, g["point"], color="tab:blue", lw=1, label=f"{shown} forecast")
        ax.plot(x, g["actual"], color="black", lw=1, label="actual close")
        ax.set_title(f"{symbol}: {shown}, horizon {h} d (plotted at target date)")
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        path = out_dir / f"{stem}_{symbol}_{shown}_h{h}.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    per = (
        metrics[(metrics["symbol"] != "ALL") & metrics["rel_mae"].notna()]
        if not metrics.empty
        else metrics
    )
    if not per.empty:
        horizons = sorted(per["horizon"].unique())
        fig, axes = plt.subplots(1, len(horizons), figsize=(5 * len(horizons), 4), squeeze=False)
        for ax, h in zip(axes[0], horizons, strict=True):
            sub = per[per["horizon"] == h]
            order = [m for m in models if m in set(sub["model"])]
            for i, m in enumerate(order):
                vals = sub[sub["model"] == m]["rel_mae"]
                ax.scatter([i] * len(vals), vals, s=12, alpha=0.6)
                ax.hlines(vals.median(), i - 0.3, i + 0.3, color="black")
            ax.axhline(1.0, color="red", lw=1, ls="--", label="naive")
            ax.axhline(0.95, color="orange", lw=1, ls=":", label="leakage warning")
            ax.set_xticks(range(len(order)), order, rotation=45, ha="right")
            ax.set_title(f"relMAE vs naive, h={h} (dots = coins, bar = median)")
            ax.legend(fontsize=8)
        fig.tight_layout()
        path = out_dir / f"{stem}_skill.png"
        fig.savefig(path, dpi=80)
        plt.close(fig)
        paths.append(path)
    return paths


def parse_int_list(text: str, name: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise EngineError(f"--{name}: expected comma-separated integers, got {text!r}") from None
    if not values or any(v <= 0 for v in values):
        raise EngineError(f"--{name}: expected positive integers, got {text!r}")
    return values


def parse_refit(text: str) -> tuple[int, dict[str, int]]:
    """``"30"`` or ``"30,lstm=90,tcn=90"`` -> (30, {"lstm": 90, "tcn": 90})."""
    default, overrides = 30, {}
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            if "=" in part:
                k, v = part.split("=", 1)
                overrides[k.strip()] = int(v)
            else:
                default = int(part)
    except ValueError:
        raise EngineError(f"--refit-every: cannot parse {text!r} (e.g. 30 or 30,lstm=90)") from None
    if default <= 0 or any(v <= 0 for v in overrides.values()):
        raise EngineError("--refit-every: values must be positive")
    return default, overrides


def model_params_from(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["lstm.epochs=5", "lightgbm.num_boost_round=100"]`` -> nested dict (JSON-ish values)."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        try:
            key, raw = item.split("=", 1)
            model, param = key.split(".", 1)
        except ValueError:
            raise EngineError(f"--param: expected model.name=value, got {item!r}") from None
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out.setdefault(model.strip(), {})[param.strip()] = value
    return out


def merge_reports(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Merge backtest reports of the same symbols/period run with different models.

    Models already present in an earlier report (e.g. ``naive``, run in every invocation) are
    taken from the first one; refit overrides and each run's config are kept.
    """
    if not reports:
        raise ValueError("nothing to merge")
    base = copy.deepcopy(dict(reports[0]))
    base.setdefault("warnings", [])
    seen = set(base["config"]["models"])
    for other in reports[1:]:
        new = [m for m in other["config"]["models"] if m not in seen]
        base["forecasts"] += [f for f in other["forecasts"] if f["model"] in new]
        base["metrics"] += [m for m in other["metrics"] if m["model"] in new]
        base["warnings"] += list(other.get("warnings") or [])
        base["config"]["models"] += new
        overrides = dict(base["config"].get("refit_overrides") or {})
        overrides.update(other["config"].get("refit_overrides") or {})
        base["config"]["refit_overrides"] = overrides
        base["config"].setdefault("runs", []).append(other["config"])
        seen.update(new)
    order = {m: i for i, m in enumerate(base["config"]["models"])}
    base["metrics"].sort(
        key=lambda m: (m["symbol"] == "ALL", order.get(m["model"], len(order)), m["horizon"])
    )
    return base


# --- the PDF ------------------------------------------------------------------------------------


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
    # deferred: matplotlib is imported only by the processes that draw
    from matplotlib.backends.backend_pdf import PdfPages

    # deferred: as above
    from matplotlib.figure import Figure

    now = now or datetime.now(UTC)
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
            ys = [float(v) if (v := by_h.get(h)) is not None else float("nan") for h in horizons]
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
