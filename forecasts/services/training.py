"""Train, evaluate walk-forward, calibrate, register and (maybe) promote model versions.

For each coin x model: the engine fits the model on data up to each walk-forward origin
(expanding window, refit every ``refit_every`` days), its forecasts are scored against the
random walk on the same origins (relMAE, MASE, directional accuracy), split-conformal
quantiles of the volatility-scaled residuals give the intervals (coverage is reported on
the half of the window the quantiles were *not* fitted on), then the model is refitted on
all data and saved through the engine (safe formats only) into a new mlserving version,
registered as ``challenger``; it becomes ``champion`` only when it beats the champion.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import structlog
from django.conf import settings

from forecasts.services import calibration as cal
from forecasts.services.common import (
    BASELINE,
    LEVELS,
    ForecastInputError,
    check_models,
    horizon_days,
    key_of,
    parse_csv,
)
from forecasts.services.generation import resolve_assets
from markets import selectors as market_selectors
from mlserving import services as registry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    horizons: tuple[int, ...]
    eval_days: int = 120
    refit_every: int = 60
    max_history_days: int = 0  # 0 = all
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, *, horizons: Sequence[int] | None = None, **overrides: Any
    ) -> TrainConfig:
        hs = tuple(horizons) if horizons else tuple(range(1, horizon_days() + 1))
        base = {
            "eval_days": int(getattr(settings, "FORECAST_TRAIN_EVAL_DAYS", 120)),
            "refit_every": int(getattr(settings, "FORECAST_TRAIN_REFIT_DAYS", 60)),
            "max_history_days": int(getattr(settings, "FORECAST_TRAIN_MAX_DAYS", 0)),
            "params": dict(getattr(settings, "FORECAST_MODEL_PARAMS", {}) or {}),
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(horizons=hs, **base)


@dataclass
class TrainResult:
    symbol: str
    model: str
    version: str | None
    skill_score: float | None
    promoted: bool
    reason: str
    seconds: float = 0.0


@dataclass
class TrainReport:
    results: list[TrainResult] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


# --- walk-forward evaluation ---------------------------------------------------------------------


def walk_forward_errors(*, model: str, history: pd.DataFrame, config: TrainConfig) -> pd.DataFrame:
    """Out-of-sample forecasts over the last ``eval_days`` origins, no look-ahead.

    Columns: ``origin, horizon, predicted, actual, sigma`` (log-returns from the origin
    close; ``sigma`` = recent daily volatility known at the origin).
    """
    from forecasts.engine import get_forecaster

    hs = list(config.horizons)
    close = history["close"].astype(float)
    lc = np.log(close.to_numpy())
    sigma = cal.volatility_series(close).to_numpy()
    n = len(history)
    first = max(n - config.eval_days - 1, 0)
    origins_idx = list(range(first, n - 1))  # an origin needs at least its h=1 target
    if not origins_idx:
        raise ForecastInputError(f"{model}: not enough history to evaluate")
    rows: list[tuple[Any, int, float, float, float]] = []
    step = max(1, config.refit_every)
    for block_start in range(0, len(origins_idx), step):
        block = origins_idx[block_start : block_start + step]
        fit_end = block[0] + 1  # data up to and including the first origin of the block
        forecaster = get_forecaster(model, **config.params.get(model, {}))
        forecaster.fit(history.iloc[:fit_end], hs)
        origins = [history.index[i] for i in block]
        path_fn = getattr(forecaster, "predict_path", None)
        if path_fn is not None:
            preds = path_fn(history.iloc[: block[-1] + 1], origins)
        else:
            preds = {history.index[i]: forecaster.predict(history.iloc[: i + 1]) for i in block}
        for i in block:
            o = history.index[i]
            for h in hs:
                if i + h >= n:
                    continue
                p = preds.get(o, {}).get(h)
                if p is None or not math.isfinite(p):
                    continue
                rows.append((o, h, float(p), float(lc[i + h] - lc[i]), float(sigma[i])))
    frame = pd.DataFrame(rows, columns=["origin", "horizon", "predicted", "actual", "sigma"])
    frame["sigma"] = frame["sigma"].fillna(frame["sigma"].median()).clip(lower=cal.MIN_SIGMA)
    frame["error"] = frame["actual"] - frame["predicted"]
    return frame


def skill_summary(
    errors: pd.DataFrame, *, history: pd.DataFrame, levels: Iterable[int] = LEVELS
) -> tuple[dict[str, Any], cal.Calibration]:
    """Metrics per horizon vs the random walk on the same origins, plus the calibration.

    Coverage is honest: quantiles fitted on the first half of the origins, coverage counted
    on the second half. The returned calibration uses every origin.
    """
    close = history["close"].astype(float).to_numpy()
    scale = float(np.mean(np.abs(np.diff(close)))) or 1.0  # in-sample one-step naive MAE
    per_h: dict[str, dict[str, Any]] = {}
    for h, g in errors.groupby("horizon"):
        g = g.sort_values("origin")
        # prices relative to the origin close, then scaled back to price units
        p_hat = np.exp(g["predicted"].to_numpy())
        p_act = np.exp(g["actual"].to_numpy())
        origin_close = history["close"].reindex(g["origin"]).to_numpy(dtype=float)
        abs_err = np.abs(p_act - p_hat) * origin_close
        naive_err = np.abs(p_act - 1.0) * origin_close
        mae = float(abs_err.mean())
        naive_mae = float(naive_err.mean()) or float("nan")
        # directional accuracy only where the model calls a direction (naive never does)
        called = g["predicted"].to_numpy() != 0
        direction = np.sign(g["predicted"].to_numpy()[called]) == np.sign(
            g["actual"].to_numpy()[called]
        )
        half = len(g) // 2
        coverage: dict[str, float | None] = {}
        width: dict[str, float | None] = {}
        if half >= 5:
            calib = cal.Calibration.from_errors(g.iloc[:half], levels=levels)
            test = g.iloc[half:]
            q = calib.quantiles[int(h)]
            scaled = (test["error"].abs() / (test["sigma"] * math.sqrt(int(h)))).to_numpy()
            for lv in levels:
                coverage[str(lv)] = round(float(np.mean(scaled <= q[str(lv)])), 4)
                half_width = q[str(lv)] * test["sigma"] * math.sqrt(int(h))
                width[str(lv)] = round(float(np.mean(2 * half_width)), 6)
        else:
            coverage = {str(lv): None for lv in levels}
            width = {str(lv): None for lv in levels}
        per_h[str(int(h))] = {
            "n": len(g),
            "mae": round(mae, 6),
            "naive_mae": round(naive_mae, 6) if math.isfinite(naive_mae) else None,
            "rel_mae": (
                round(mae / naive_mae, 4) if math.isfinite(naive_mae) and naive_mae else None
            ),
            "mase": round(mae / scale, 4),
            "directional_accuracy": round(float(direction.mean()), 4) if called.any() else None,
            "coverage": coverage,
            "interval_width_logret": width,
        }
    rels = [v["rel_mae"] for v in per_h.values() if v["rel_mae"] is not None]
    summary = {
        "per_horizon": per_h,
        "skill_score": round(float(np.mean(rels)), 4) if rels else None,
        "rel_mae_mean": round(float(np.mean(rels)), 4) if rels else None,
        "evaluated_origins": int(errors["origin"].nunique()) if len(errors) else 0,
        "method": "walk-forward, expanding window",
        "leakage_warning": bool(rels and min(rels) < 0.95),
    }
    return summary, cal.Calibration.from_errors(errors, levels=levels)


# --- training -------------------------------------------------------------------------------------


def _load_history(asset: Any, config: TrainConfig) -> pd.DataFrame:
    history = market_selectors.candle_frame(asset=asset, interval="1d")
    if config.max_history_days and len(history) > config.max_history_days:
        history = history.iloc[-config.max_history_days :]
    return history


def _write_preprocessing(*, key: str, history: pd.DataFrame) -> None:
    """``preprocessing/<KEY>/``: feature names and RobustScaler params of features and targets."""
    from forecasts.engine import build_features, log_return_targets
    from forecasts.engine.scalers import RobustScalerParams
    from mlserving import manifest as mf

    folder = mf.artifacts_root() / "preprocessing" / key
    folder.mkdir(parents=True, exist_ok=True)
    feats = build_features(history).dropna()
    if len(feats) < 10:
        return
    mf.write_json_atomic(folder / "feature_names.json", list(feats.columns))
    RobustScalerParams.fit(feats.to_numpy(dtype=float)).save(folder / "feature_scaler.json")
    targets = log_return_targets(history["close"], [1]).dropna().to_numpy(dtype=float)
    RobustScalerParams.fit(targets).save(folder / "target_scaler.json")
    registry.register_preprocessing(key=key, folder=folder)


def train_one(*, asset: Any, model: str, history: pd.DataFrame, config: TrainConfig) -> TrainResult:
    import time

    from forecasts.engine import get_forecaster, save_forecaster

    started = time.perf_counter()
    key = key_of(asset)
    errors = walk_forward_errors(model=model, history=history, config=config)
    metrics, calibration = skill_summary(errors, history=history)
    if model == BASELINE:
        metrics["skill_score"] = 1.0  # the bar itself, by definition
    forecaster = get_forecaster(model, **config.params.get(model, {}))
    forecaster.fit(history, list(config.horizons))
    with registry.staging_folder() as stage:
        spec = save_forecaster(forecaster, stage)
        calibration.write(stage / cal.CALIBRATION_FILE)
        meta = {
            "format": spec.format,
            "spec": spec.to_dict(),
            "feature_names": list(spec.feature_names),
            "scalers": {
                "files": dict(spec.scaler_files),
                "preprocessing": {
                    name: f"preprocessing/{key}/{name}"
                    for name in ("feature_names.json", "feature_scaler.json", "target_scaler.json")
                },
            },
            "training_window": dict(spec.training_window),
            "library_versions": dict(spec.library_versions),
            "metrics": metrics,
            "calibration": {"file": cal.CALIBRATION_FILE, "method": calibration.method},
            "horizons": list(config.horizons),
        }
        version = registry.register_version(key=key, model=model, source=stage, meta=meta)
    promotion = registry.promote(key=key, model=model, version=version)
    seconds = round(time.perf_counter() - started, 2)
    log.info(
        "forecasts.trained",
        key=key,
        model=model,
        version=version,
        skill=metrics.get("skill_score"),
        promoted=promotion.promoted,
        seconds=seconds,
    )
    return TrainResult(
        symbol=key,
        model=model,
        version=version,
        skill_score=metrics.get("skill_score"),
        promoted=promotion.promoted,
        reason=promotion.reason,
        seconds=seconds,
    )


def train_models(
    *,
    symbols: Sequence[str] | str,
    models: Sequence[str] | str | None = None,
    horizons: Sequence[int] | None = None,
    eval_days: int | None = None,
    refit_every: int | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> TrainReport:
    """Train every coin x model (``naive`` always included: it is the bar), register each as
    a new version and promote it when its walk-forward skill beats the champion's.

    One model failing does not stop the others; failures are listed in the report.
    """
    requested = parse_csv(models) or list(settings.FORECAST_DEFAULT_MODELS)
    names = check_models(requested, allow_auto=False)
    if BASELINE not in names:
        names.insert(0, BASELINE)
    assets = resolve_assets(parse_csv(symbols))
    config = TrainConfig.from_settings(
        horizons=horizons,
        eval_days=eval_days,
        refit_every=refit_every,
        params=params if params is not None else None,
    )
    if not config.horizons or min(config.horizons) < 1:
        raise ForecastInputError("horizons must be positive days")
    report = TrainReport()
    histories: dict[str, pd.DataFrame] = {}
    for asset in assets:
        history = _load_history(asset, config)
        if len(history) < config.eval_days + 60:
            raise ForecastInputError(
                f"{asset.pk}: {len(history)} daily candles; training needs at least "
                f"{config.eval_days + 60} (eval_days + 60). Load data first (load_sample_data)."
            )
        histories[asset.pk] = history
        _write_preprocessing(key=key_of(asset), history=history)
    work = [(a, m) for a in assets for m in names]
    for asset, model in progress(work) if progress else work:
        try:
            report.results.append(
                train_one(asset=asset, model=model, history=histories[asset.pk], config=config)
            )
        except Exception as exc:
            log.error("forecasts.train_failed", asset=asset.pk, model=model, error=repr(exc))
            report.failures.append(f"{asset.pk}/{model}: {exc.__class__.__name__}: {exc}")
    return report
