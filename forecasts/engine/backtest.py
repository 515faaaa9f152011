"""Walk-forward backtest (expanding window, scheduled refits, no look-ahead) and ``auto``.

Timeline per symbol::

    origin  = the last day whose data (its close included) a forecast may use
    target  = origin + h days
    origins = every day from test_start - warmup_days to the last day with a known target

Each model is refitted every ``refit_every`` origins on ``frame.loc[:origin]`` (the data up to
the first origin of the block) and predicts each origin of the block from data up to that
origin (``Forecaster.predict_path``). Warm-up origins (before ``test_start``) are not scored:
they seed the conformal calibration and ``auto``'s inner validation window.

Intervals: a :class:`~forecasts.engine.conformal.ConformalCalibrator` per model and horizon is
fed the normalised score of a forecast only once its target day has passed (``target <=
origin`` of the forecast being made), so calibration never peeks either.

``auto`` (not a model): at each origin and per horizon it picks, among ``auto_candidates``,
the model with the lowest MAE over the forecasts *realised* in the last ``auto_window`` days
(inner validation window, all before the origin), provided it beats naive there:
``rel_mae < 1`` **and** a one-sided Diebold-Mariano p-value < ``auto_max_p`` (0.10). Otherwise
it serves ``naive``. The chosen model is recorded in every auto forecast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import metrics as M
from .conformal import ConformalCalibrator, ewma_volatility
from .forecaster import EngineError, validate_ohlcv
from .models import MODEL_TYPES, get_forecaster

AUTO = "auto"
DEFAULT_AUTO_CANDIDATES = ("naive", "drift", "arima", "ets", "lightgbm")
Progress = Callable[[str], None]


@dataclass
class BacktestConfig:
    """Everything that defines a backtest run (stored verbatim in the report's ``config``)."""

    test_start: str
    horizons: tuple[int, ...] = (1, 7)
    levels: tuple[int, ...] = (80, 90, 95)
    test_end: str | None = None  # last origin (default: as late as targets are known)
    refit_every: int = 30
    refit_overrides: dict[str, int] = field(default_factory=dict)  # e.g. {"lstm": 90}
    warmup_days: int = 180
    calibration_window: int = 365
    adaptive: bool = True
    auto_candidates: tuple[str, ...] = DEFAULT_AUTO_CANDIDATES
    auto_window: int = 120
    auto_max_p: float = 0.10
    #: per-model constructor params; LightGBM defaults to 1 thread here: a walk-forward makes
    #: many small fits and 2 OpenMP threads lose badly when other processes share the 2 cores
    model_params: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {
            "lightgbm": {"num_threads": 1},
            "ensemble": {"base_params": {"lightgbm": {"num_threads": 1}}},
        }
    )
    cost_bps: float = 10.0

    def refit_for(self, model: str) -> int:
        return int(self.refit_overrides.get(model, self.refit_every))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class BacktestResult:
    forecasts: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    config: dict[str, Any]
    warnings: list[str] = field(default_factory=list)

    def to_report(self) -> dict[str, Any]:
        return {
            "forecasts": self.forecasts,
            "metrics": self.metrics,
            "config": self.config,
            "warnings": self.warnings,
        }


def _day(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).strftime("%Y-%m-%d")


def _ts(value: str | pd.Timestamp, tz: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if ts.tzinfo is None and tz is not None:
        ts = ts.tz_localize(tz)
    elif ts.tzinfo is not None and tz is None:
        ts = ts.tz_localize(None)
    return ts


# -- walk-forward for one model ---------------------------------------------------------------
def walk_forward(
    frame: pd.DataFrame,
    model: str,
    horizons: Sequence[int],
    origins: Sequence[pd.Timestamp],
    refit_every: int,
    params: Mapping[str, Any] | None = None,
    on_block: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Log-return predictions of ``model`` at each origin: columns ``origin, horizon, pred``.

    Refits every ``refit_every`` origins on ``frame.loc[:first origin of the block]``; a block
    whose fit fails for lack of history is skipped (no forecasts there).
    """
    rows: list[tuple[pd.Timestamp, int, float]] = []
    origins = list(origins)
    step = max(1, int(refit_every))
    for i in range(0, len(origins), step):
        block = origins[i : i + step]
        try:
            fitted = get_forecaster(model, **dict(params or {})).fit(
                frame.loc[: block[0]], horizons
            )
        except EngineError:
            if on_block:
                on_block(len(block))
            continue
        path = fitted.predict_path(frame.loc[: block[-1]], block)
        for o in block:
            for h, value in path[o].items():
                rows.append((o, int(h), float(value)))
        if on_block:
            on_block(len(block))
    return pd.DataFrame(rows, columns=["origin", "horizon", "pred"])


def _attach_intervals(
    preds: pd.DataFrame,
    frame: pd.DataFrame,
    sigma: pd.Series,
    config: BacktestConfig,
) -> tuple[pd.DataFrame, dict[int, ConformalCalibrator]]:
    """Add actual/sigma/bounds columns; the calibrator only sees realised targets."""
    logc = np.log(frame["close"])
    out = []
    calibrators: dict[int, ConformalCalibrator] = {}
    for h, grp in preds.groupby("horizon", sort=True):
        grp = grp.sort_values("origin").reset_index(drop=True)
        target = grp["origin"] + pd.Timedelta(days=int(h))
        grp["target"] = target
        grp["origin_close"] = frame["close"].reindex(grp["origin"]).to_numpy()
        actual_lr = logc.reindex(target).to_numpy() - logc.reindex(grp["origin"]).to_numpy()
        grp["actual_lr"] = actual_lr
        grp["sigma"] = sigma.reindex(grp["origin"]).to_numpy()
        scale = grp["sigma"].to_numpy() * math.sqrt(int(h))
        scores = np.abs(actual_lr - grp["pred"].to_numpy()) / scale
        cal = ConformalCalibrator(
            levels=tuple(config.levels),
            window=config.calibration_window,
            adaptive=config.adaptive,
        )
        origins = grp["origin"].to_numpy()
        targets = target.to_numpy()
        lows = {lv: np.empty(len(grp)) for lv in config.levels}
        highs = {lv: np.empty(len(grp)) for lv in config.levels}
        ptr = 0
        for i in range(len(grp)):
            while ptr < i and targets[ptr] <= origins[i]:
                cal.update(int(h), float(scores[ptr]))
                ptr += 1
            bounds = cal.interval(float(grp.at[i, "pred"]), float(grp.at[i, "sigma"]), int(h))
            for lv, (lo, hi) in bounds.items():
                lows[lv][i], highs[lv][i] = lo, hi
        while ptr < len(grp) and np.isfinite(scores[ptr]):
            cal.update(int(h), float(scores[ptr]))  # all realised scores, for serving
            ptr += 1
        for lv in config.levels:
            grp[f"lo_{lv}"] = lows[lv]
            grp[f"hi_{lv}"] = highs[lv]
        calibrators[int(h)] = cal
        out.append(grp)
    if not out:
        return preds.assign(target=pd.NaT), calibrators
    return pd.concat(out, ignore_index=True), calibrators


def _select_auto(
    tables: Mapping[str, pd.DataFrame],
    horizon: int,
    test_origins: Sequence[pd.Timestamp],
    config: BacktestConfig,
) -> dict[pd.Timestamp, str]:
    """``{origin: chosen model}`` using only forecasts realised by each origin."""
    err = {}
    for name in config.auto_candidates:
        t = tables.get(name)
        if t is None or t.empty:
            continue
        g = t[t["horizon"] == horizon].set_index("origin")
        err[name] = (g["actual_lr"] - g["pred"]).abs()
    if "naive" not in err:
        return dict.fromkeys(test_origins, "naive")
    errors = pd.DataFrame(err)
    choice = {}
    for o in test_origins:
        hi = o - pd.Timedelta(days=horizon)  # realised: target <= origin
        lo = hi - pd.Timedelta(days=config.auto_window)
        win = errors.loc[(errors.index > lo) & (errors.index <= hi)]
        best, best_rel = "naive", 1.0
        base = win["naive"].dropna()
        for name in errors.columns:
            if name == "naive":
                continue
            pair = win[["naive", name]].dropna()
            if len(pair) < max(20, config.auto_window // 3) or base.empty:
                continue
            denom = float(pair["naive"].mean())
            if denom <= 0:
                continue
            rel = float(pair[name].mean()) / denom
            if rel >= best_rel:
                continue
            dm = M.diebold_mariano(pair[name], pair["naive"], horizon=horizon)
            if np.isfinite(dm["p_better"]) and dm["p_better"] < config.auto_max_p:
                best, best_rel = name, rel
        choice[o] = best
    return choice


@dataclass
class SymbolBacktest:
    symbol: str
    tables: dict[str, pd.DataFrame]  # model -> rows (origin, horizon, pred, bounds, actual...)
    calibrators: dict[str, dict[int, ConformalCalibrator]]
    train_close: pd.Series
    test_start: pd.Timestamp


def backtest_symbol(
    symbol: str,
    frame: pd.DataFrame,
    models: Sequence[str],
    config: BacktestConfig,
    progress: Callable[[int], None] | None = None,
) -> SymbolBacktest:
    """Run every requested model (and ``auto``) walk-forward on one symbol."""
    frame = validate_ohlcv(frame)
    horizons = sorted({int(h) for h in config.horizons})
    tz = frame.index.tz
    test_start = _ts(config.test_start, tz)
    last = frame.index[-1]
    if test_start <= frame.index[0] or test_start > last - pd.Timedelta(days=min(horizons)):
        raise EngineError(
            f"{symbol}: test start {_day(test_start)} is outside the data "
            f"({_day(frame.index[0])} .. {_day(last)}, and the first target must be known)"
        )
    end = last - pd.Timedelta(days=min(horizons))
    if config.test_end:
        end = min(end, _ts(config.test_end, tz))
    first = max(frame.index[0], test_start - pd.Timedelta(days=config.warmup_days))
    origins = list(frame.index[(frame.index >= first) & (frame.index <= end)])
    needed = [m for m in models if m != AUTO]
    if AUTO in models:
        needed += [c for c in config.auto_candidates if c not in needed]
    if "naive" not in needed:
        needed.insert(0, "naive")
    sigma = ewma_volatility(frame["close"])
    tables: dict[str, pd.DataFrame] = {}
    calibrators: dict[str, dict[int, ConformalCalibrator]] = {}
    for name in needed:
        preds = walk_forward(
            frame,
            name,
            horizons,
            origins,
            config.refit_for(name),
            config.model_params.get(name),
            on_block=progress,
        )
        table, cals = _attach_intervals(preds, frame, sigma, config)
        tables[name], calibrators[name] = table, cals
    if AUTO in models:
        parts = []
        test_origins = [o for o in origins if o >= test_start]
        for h in horizons:
            choice = _select_auto(tables, h, test_origins, config)
            rows = []
            for o, name in choice.items():
                t = tables.get(name)
                hit = t[(t["origin"] == o) & (t["horizon"] == h)] if t is not None else None
                if hit is None or hit.empty:  # chosen model has no forecast here: naive
                    t = tables["naive"]
                    hit = t[(t["origin"] == o) & (t["horizon"] == h)]
                    name = "naive"
                row = hit.iloc[0].copy()
                row["chosen"] = name
                rows.append(row)
            if rows:
                parts.append(pd.DataFrame(rows))
        tables[AUTO] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return SymbolBacktest(
        symbol=symbol,
        tables=tables,
        calibrators=calibrators,
        train_close=frame["close"].loc[frame.index < test_start],
        test_start=test_start,
    )


# -- metrics ----------------------------------------------------------------------------------
def score_table(
    table: pd.DataFrame,
    naive: pd.DataFrame,
    train_close: pd.Series,
    horizon: int,
    levels: Sequence[int],
    cost_bps: float = 10.0,
) -> dict[str, Any]:
    """All metrics of one model's realised forecasts at one horizon (vs naive, same origins)."""
    t = table[(table["horizon"] == horizon) & table["actual_lr"].notna()].set_index("origin")
    nv = naive[(naive["horizon"] == horizon) & naive["actual_lr"].notna()].set_index("origin")
    common = t.index.intersection(nv.index)
    t, nv = t.loc[common].sort_index(), nv.loc[common].sort_index()
    n = len(t)
    if n == 0:
        return {"n": 0}
    c0 = t["origin_close"].to_numpy()
    actual = c0 * np.exp(t["actual_lr"].to_numpy())
    point = c0 * np.exp(t["pred"].to_numpy())
    naive_point = c0 * np.exp(nv["pred"].to_numpy())
    train_lr = np.log(train_close).diff(horizon).dropna()
    up_share = float((train_lr > 0).mean()) if len(train_lr) else None
    out: dict[str, Any] = {
        "n": n,
        "mae": M.mae(actual, point),
        "rmse": M.rmse(actual, point),
        "mape": M.mape(actual, point),
        "smape": M.smape(actual, point),
        "mase": M.mase(actual, point, M.naive_scale(train_close.to_numpy(), horizon)),
        "rel_mae": M.rel_mae(actual, point, naive_point),
        "rel_rmse": M.rmse(actual, point) / M.rmse(actual, naive_point)
        if M.rmse(actual, naive_point) > 0
        else float("nan"),
    }
    out.update(M.directional_accuracy(t["actual_lr"], t["pred"], train_up_share=up_share))
    dm = M.diebold_mariano(actual - point, actual - naive_point, horizon=horizon)
    out.update(
        {"dm_stat": dm["dm_stat"], "dm_p_value": dm["p_value"], "dm_p_better": dm["p_better"]}
    )
    sig = t["sigma"].to_numpy()
    volatile = sig >= np.quantile(sig, 2.0 / 3.0)
    for lv in levels:
        lo = c0 * np.exp(t[f"lo_{lv}"].to_numpy())
        hi = c0 * np.exp(t[f"hi_{lv}"].to_numpy())
        q = lv / 100.0
        out[f"coverage_{lv}"] = M.coverage(actual, lo, hi)
        out[f"coverage_{lv}_volatile"] = M.coverage(actual[volatile], lo[volatile], hi[volatile])
        out[f"width_{lv}_pct"] = M.mean_width_pct(lo, hi, c0)
        out[f"pinball_{lv}"] = M.interval_pinball(actual, lo, hi, q)
        out[f"winkler_{lv}"] = M.winkler_score(actual, lo, hi, q)
    strat = M.long_flat_strategy(c0, actual, t["pred"].to_numpy(), horizon, cost_bps)
    out.update({f"strategy_{k}": v for k, v in strat.items()})
    rel = out["rel_mae"]
    out["leakage_warning"] = bool(np.isfinite(rel) and rel < M.LEAKAGE_REL_MAE)
    out["skill"] = bool(rel < 1.0 and dm["p_better"] < 0.05)
    if "chosen" in t.columns:
        out["auto_choices"] = {k: int(v) for k, v in t["chosen"].value_counts().items()}
    return {k: _clean(v) for k, v in out.items()}


def _clean(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def aggregate_metrics(rows: Sequence[Mapping[str, Any]], levels: Sequence[int]) -> list[dict]:
    """Per model x horizon across symbols: geometric-mean rel_mae, n-weighted coverage etc."""
    df = pd.DataFrame([r for r in rows if r.get("n")])
    out: list[dict] = []
    if df.empty:
        return out
    for (model, h), g in df.groupby(["model", "horizon"], sort=False):
        w = g["n"].to_numpy(dtype=float)
        row: dict[str, Any] = {
            "symbol": "ALL",
            "model": model,
            "horizon": int(h),
            "n": int(w.sum()),
        }
        rel = g["rel_mae"].dropna()
        row["rel_mae"] = float(np.exp(np.log(rel.clip(lower=1e-12)).mean())) if len(rel) else None
        row["rel_mae_min"] = float(rel.min()) if len(rel) else None
        row["rel_mae_max"] = float(rel.max()) if len(rel) else None
        for col in (
            ["mase", "smape", "mape", "directional_accuracy", "da_baseline"]
            + [f"{k}_{lv}{s}" for lv in levels for k in ("coverage", "width") for s in ("",)]
            + [f"coverage_{lv}_volatile" for lv in levels]
            + [f"width_{lv}_pct" for lv in levels]
            + ["strategy_sharpe", "strategy_buy_hold_sharpe"]
        ):
            if col in g and g[col].notna().any():
                ok = g[col].notna().to_numpy()
                row[col] = float(np.average(g[col].to_numpy(dtype=float)[ok], weights=w[ok]))
        hits = (g["directional_accuracy"] * g["n"]).sum()
        lo, hi = M.wilson_interval(round(float(hits)), int(w.sum()))
        row["da_ci_low"], row["da_ci_high"] = lo, hi
        row["symbols_with_skill"] = int(g["skill"].fillna(False).astype(bool).sum())
        row["symbols"] = len(g)
        row["leakage_warning"] = bool(g["leakage_warning"].fillna(False).astype(bool).any())
        out.append({k: _clean(v) for k, v in row.items()})
    return out


def run_backtest(
    frames: Mapping[str, pd.DataFrame],
    models: Sequence[str],
    config: BacktestConfig,
    progress: Callable[[int], None] | None = None,
) -> BacktestResult:
    """Backtest ``models`` (names from ``MODEL_TYPES`` or ``"auto"``) on every symbol."""
    unknown = [m for m in models if m != AUTO and m not in MODEL_TYPES]
    if unknown:
        raise EngineError(
            f"unknown model(s): {', '.join(unknown)}; known: {', '.join([*MODEL_TYPES, AUTO])}"
        )
    bad = [c for c in config.auto_candidates if c not in MODEL_TYPES]
    if bad:
        raise EngineError(f"unknown auto candidate(s): {', '.join(bad)}")
    forecasts: list[dict[str, Any]] = []
    metric_rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for symbol, frame in frames.items():
        res = backtest_symbol(symbol, frame, models, config, progress)
        naive = res.tables["naive"]
        for model in models:
            table = res.tables.get(model)
            if table is None or table.empty:
                continue
            test = table[table["origin"] >= res.test_start]
            forecasts.extend(_records(symbol, model, test, config.levels))
            for h in sorted(set(config.horizons)):
                m = score_table(test, naive, res.train_close, h, config.levels, config.cost_bps)
                m = {"symbol": symbol, "model": model, "horizon": h, **m}
                if m.get("leakage_warning"):
                    warnings.append(
                        f"LEAKAGE? {symbol} {model} h={h}: rel_mae {m['rel_mae']:.3f} < "
                        f"{M.LEAKAGE_REL_MAE} (published skill caps near 0.986)"
                    )
                metric_rows.append(m)
    summary = aggregate_metrics(metric_rows, config.levels)
    cfg = config.to_dict()
    cfg.update({"models": list(models), "symbols": list(frames)})
    return BacktestResult(forecasts, metric_rows + summary, cfg, warnings)


def _records(
    symbol: str, model: str, table: pd.DataFrame, levels: Iterable[int]
) -> list[dict[str, Any]]:
    out = []
    for row in table.sort_values(["horizon", "origin"]).itertuples(index=False):
        c0 = float(row.origin_close)
        actual = c0 * math.exp(row.actual_lr) if np.isfinite(row.actual_lr) else None
        rec = {
            "symbol": symbol,
            "model": model,
            "horizon": int(row.horizon),
            "origin": _day(row.origin),
            "target": _day(row.target),
            "origin_close": c0,
            "point": c0 * math.exp(row.pred),
            "lower": {str(lv): c0 * math.exp(getattr(row, f"lo_{lv}")) for lv in levels},
            "upper": {str(lv): c0 * math.exp(getattr(row, f"hi_{lv}")) for lv in levels},
            "actual": actual,
        }
        if hasattr(row, "chosen"):
            rec["chosen"] = row.chosen
        out.append(rec)
    return out


# -- for mlserving / training ---------------------------------------------------------------------
@dataclass
class ModelEvaluation:
    """Walk-forward skill of one model on one series, and its conformal calibrators."""

    model: str
    skill: dict[int, dict[str, Any]]  # horizon -> metrics (mase, rel_mae, coverage_90, ...)
    calibrators: dict[int, ConformalCalibrator]
    test_start: str
    test_end: str

    def calibration(self) -> dict[str, Any]:
        """JSON for the artifact: ``{"1": calibrator.to_dict(), "7": ...}``."""
        return {str(h): c.to_dict() for h, c in self.calibrators.items()}


def evaluate_model(
    frame: pd.DataFrame,
    model: str,
    horizons: Sequence[int] = (1, 7),
    *,
    test_days: int = 180,
    refit_every: int = 30,
    warmup_days: int = 180,
    levels: Sequence[int] = (80, 90, 95),
    params: Mapping[str, Any] | None = None,
) -> ModelEvaluation:
    """Walk-forward evaluation over the last ``test_days`` origins of ``frame`` (vs naive).

    Use ``skill`` for the manifest and ``calibrators`` (fed with every realised walk-forward
    score, warm-up included) to put intervals on the final model's live forecasts::

        ev = evaluate_model(frame, "lightgbm", (1, 7))
        bounds = ev.calibrators[7].interval(point_lr, current_sigma(frame), 7)
    """
    if model == AUTO or model not in MODEL_TYPES:
        raise EngineError(f"cannot evaluate {model!r}: not a model type")
    frame = validate_ohlcv(frame)
    hmax = max(int(h) for h in horizons)
    start = frame.index[-1] - pd.Timedelta(days=test_days + hmax)
    config = BacktestConfig(
        test_start=str(start.date()),
        horizons=tuple(int(h) for h in horizons),
        levels=tuple(int(x) for x in levels),
        refit_every=refit_every,
        warmup_days=warmup_days,
        model_params={model: dict(params or {})},
    )
    res = backtest_symbol("series", frame, [model], config)
    table = res.tables[model]
    test = table[table["origin"] >= res.test_start]
    skill = {
        int(h): score_table(test, res.tables["naive"], res.train_close, int(h), config.levels)
        for h in horizons
    }
    return ModelEvaluation(
        model=model,
        skill=skill,
        calibrators=res.calibrators[model],
        test_start=_day(res.test_start),
        test_end=_day(frame.index[-1]),
    )


def skill_summary(
    frame: pd.DataFrame, model: str, horizons: Sequence[int] = (1, 7), **kw: Any
) -> dict[int, dict[str, Any]]:
    """Shortcut: :func:`evaluate_model` (...).skill."""
    return evaluate_model(frame, model, horizons, **kw).skill


def calibration_scores(
    frame: pd.DataFrame, model: str, horizons: Sequence[int] = (1, 7), **kw: Any
) -> dict[int, ConformalCalibrator]:
    """Shortcut: :func:`evaluate_model` (...).calibrators (walk-forward residual scores)."""
    return evaluate_model(frame, model, horizons, **kw).calibrators
