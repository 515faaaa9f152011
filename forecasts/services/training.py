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

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import structlog
from django.conf import settings

from forecasts import selectors
from forecasts.catalogue import (
    BASELINE,
    LEVELS,
    ForecastInputError,
    check_models,
    default_models,
    horizon_days,
    key_of,
    parse_csv,
)
from forecasts.engine import build_features, get_forecaster, log_return_targets, save_forecaster
from forecasts.engine.scalers import RobustScalerParams
from forecasts.services import calibration as cal
from markets import selectors as market_selectors
from mlserving import services as ml_services

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    horizons: tuple[int, ...]
    eval_days: int = 120
    refit_every: int = 60
    warmup_days: int = 60
    max_history_days: int = 0  # 0 = all
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, *, horizons: Sequence[int] | None = None, **overrides: Any
    ) -> TrainConfig:
        hs = tuple(horizons) if horizons else tuple(range(1, horizon_days() + 1))
        base: dict[str, Any] = {
            "eval_days": int(getattr(settings, "FORECAST_TRAIN_EVAL_DAYS", 120)),
            "refit_every": int(getattr(settings, "FORECAST_TRAIN_REFIT_DAYS", 60)),
            "warmup_days": int(getattr(settings, "FORECAST_TRAIN_WARMUP_DAYS", 60)),
            "max_history_days": int(getattr(settings, "FORECAST_TRAIN_MAX_DAYS", 0)),
            "params": dict(getattr(settings, "FORECAST_MODEL_PARAMS", {}) or {}),
        }
        extra_params = overrides.pop("params", None) or {}
        merged = {k: dict(v) for k, v in base["params"].items()}
        for model, p in extra_params.items():
            merged[model] = {**merged.get(model, {}), **p}
        # LightGBM's layout (FORECAST_LIGHTGBM_HORIZON_MODE) unless the params name one
        mode = str(getattr(settings, "FORECAST_LIGHTGBM_HORIZON_MODE", "per_horizon"))
        merged.setdefault("lightgbm", {}).setdefault("horizon_mode", mode)
        ensemble = merged.setdefault("ensemble", {})
        ensemble["base_params"] = {k: dict(v) for k, v in ensemble.get("base_params", {}).items()}
        ensemble["base_params"].setdefault("lightgbm", {}).setdefault("horizon_mode", mode)
        base["params"] = merged
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


# --- walk-forward evaluation (the engine's) -------------------------------------------------------


def _coverage_view(metrics: dict[str, Any]) -> dict[str, Any]:
    """The engine's flat metrics plus ``coverage``/``coverage_volatile`` as {level: share}."""
    out = dict(metrics)
    out["coverage"] = {str(lv): metrics.get(f"coverage_{lv}") for lv in LEVELS}
    out["coverage_volatile"] = {str(lv): metrics.get(f"coverage_{lv}_volatile") for lv in LEVELS}
    return out


def evaluate(
    *, model: str, history: pd.DataFrame, config: TrainConfig
) -> tuple[dict[str, Any], cal.Calibration, dict[str, str]]:
    """Walk-forward skill vs naive on the last ``eval_days`` origins, and the calibration.

    Uses the engine's ``evaluate_model`` (expanding window, refit every ``refit_every`` days,
    no look-ahead; MASE, relMAE, directional accuracy with CI, DM test, coverage per level).
    ``skill_score`` = mean relMAE over horizons (what the promotion rule compares).
    """
    # deferred: the backtest pulls in scipy.stats (seconds of start-up); web processes never train
    from forecasts.engine.backtest import evaluate_model

    ev = evaluate_model(
        history,
        model,
        list(config.horizons),
        test_days=config.eval_days,
        refit_every=config.refit_every,
        warmup_days=config.warmup_days,
        levels=LEVELS,
        params=config.params.get(model, {}),
    )
    per_h = {str(h): _coverage_view(m) for h, m in sorted(ev.skill.items())}
    rels = [m["rel_mae"] for m in per_h.values() if m.get("rel_mae") is not None]
    summary = {
        "per_horizon": per_h,
        "skill_score": round(float(np.mean(rels)), 4) if rels else None,
        "rel_mae_mean": round(float(np.mean(rels)), 4) if rels else None,
        "horizons_with_skill": [int(h) for h, m in per_h.items() if m.get("skill")],
        "leakage_warning": any(m.get("leakage_warning") for m in per_h.values()),
        "method": (
            f"walk-forward, expanding window, refit every {config.refit_every} days, "
            f"{config.eval_days} test origins"
        ),
    }
    window = {"start": ev.test_start, "end": ev.test_end}
    return summary, cal.Calibration(calibrators=dict(ev.calibrators)), window


# --- training -------------------------------------------------------------------------------------


def _load_history(asset: Any, config: TrainConfig) -> pd.DataFrame:
    history = market_selectors.candle_frame(asset=asset, interval="1d")
    if config.max_history_days and len(history) > config.max_history_days:
        history = history.iloc[-config.max_history_days :]
    return history


def _write_preprocessing(*, key: str, history: pd.DataFrame) -> None:
    """``preprocessing/<KEY>/``: feature names and RobustScaler params of features and targets."""
    feats = build_features(history).dropna()
    if len(feats) < 10:
        return
    targets = log_return_targets(history["close"], [1]).dropna().to_numpy(dtype=float)
    ml_services.preprocessing_write(
        key=key,
        files={
            "feature_names.json": list(feats.columns),
            "feature_scaler.json": RobustScalerParams.fit(feats.to_numpy(dtype=float)).to_dict(),
            "target_scaler.json": RobustScalerParams.fit(targets).to_dict(),
        },
    )


def train_one(
    *,
    asset: Any,
    model: str,
    history: pd.DataFrame,
    config: TrainConfig,
    version: str | None = None,
) -> TrainResult:
    """Fit, evaluate, register and maybe promote one coin x model (``version``: a fixed id, so
    a re-run of the same fanned-out task writes the same version instead of a second one)."""
    started = time.perf_counter()
    key = key_of(asset)
    metrics, calibration, test_window = evaluate(model=model, history=history, config=config)
    metrics["test_window"] = test_window
    if model == BASELINE:
        metrics["skill_score"] = 1.0  # the bar itself, by definition
    forecaster = get_forecaster(model, **config.params.get(model, {}))
    forecaster.fit(history, list(config.horizons))
    with ml_services.staging_folder() as stage:
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
        version = ml_services.register_version(
            key=key, model=model, source=stage, meta=meta, version=version
        )
    promotion = ml_services.promote(key=key, model=model, version=version)
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


def checked_config(**overrides: Any) -> TrainConfig:
    """The settings' training config with the caller's overrides (None = the setting), checked
    the same way for a direct run and a fanned-out one."""
    config = TrainConfig.from_settings(**overrides)
    if not config.horizons or min(config.horizons) < 1:
        raise ForecastInputError("horizons must be positive days")
    return config


def train_models(
    *,
    symbols: Sequence[str] | str,
    models: Sequence[str] | str | None = None,
    horizons: Sequence[int] | None = None,
    eval_days: int | None = None,
    refit_every: int | None = None,
    warmup_days: int | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> TrainReport:
    """Train every coin x model (``naive`` always included: it is the bar), register each as
    a new version and promote it when its walk-forward skill beats the champion's.

    One model failing does not stop the others; failures are listed in the report.
    """
    requested = parse_csv(models) or default_models()
    names = check_models(requested, allow_auto=False)
    if BASELINE not in names:
        names.insert(0, BASELINE)
    assets = selectors.resolve_assets(parse_csv(symbols))
    config = checked_config(
        horizons=horizons,
        eval_days=eval_days,
        refit_every=refit_every,
        warmup_days=warmup_days,
        params=params,
    )
    report = TrainReport()
    histories: dict[str, pd.DataFrame] = {}
    for asset in assets:
        history = _load_history(asset, config)
        need = config.eval_days + config.warmup_days + 60
        if len(history) < need:
            raise ForecastInputError(
                f"{asset.pk}: {len(history)} daily candles; training needs at least {need} "
                "(eval + warm-up days + 60). Load data first (load_sample_data)."
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
