"""Issue forecasts: load verified artifacts through mlserving, predict, store immutable rows.

This is the serving-time code path: it never trains and never imports TensorFlow (neural
nets run through ONNX Runtime inside the engine's ``load``). A model that cannot be served
(missing, tampered, expired or unloadable artifact) falls back to the coin's ``naive``
champion and then to the built-in random walk, and every stored row says so in
``fallback_reason``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import structlog
from django.db import transaction
from django.utils import timezone

from forecasts import response_cache, selectors
from forecasts.catalogue import (
    BASELINE,
    BUILTIN_VERSION,
    LEVELS,
    MODEL_TYPES,
    ForecastInputError,
    check_models,
    default_models,
    horizon_days,
    key_of,
    parse_csv,
)
from forecasts.engine import ArtifactSpec, build_features, load_forecaster
from forecasts.models import Forecast
from forecasts.services import calibration as cal
from markets import selectors as market_selectors
from mlserving import selectors as ml_selectors
from mlserving import services as ml_services
from streaming import services as streaming

log = structlog.get_logger(__name__)

#: ``fn(asset_ids)`` called on commit after forecasts are issued (apps above: alerts)
ForecastsListener = Callable[[tuple[str, ...]], None]
_LISTENERS: dict[str, ForecastsListener] = {}


def forecasts_listener_register(name: str, fn: ForecastsListener) -> None:
    """Call ``fn(asset_ids)`` on commit after each issue of new forecasts, next to the
    ``forecasts:<asset id>`` publish (idempotent by name; call from ``AppConfig.ready()``)."""
    _LISTENERS[name] = fn


def _notify_listeners(asset_ids: tuple[str, ...]) -> None:
    for name, fn in list(_LISTENERS.items()):
        try:
            fn(asset_ids)
        except Exception:  # a listener never breaks the issue
            log.exception("forecasts.listener_failed", listener=name)


#: rows of history handed to a model at predict time (features need ~420, NNs a lookback)
PREDICT_TAIL_ROWS = 1200


@dataclass
class ServedModel:
    """One model's forecast for one coin, ready to be stored."""

    model: str
    version: str
    returns: dict[int, float]
    bounds: dict[int, dict[str, tuple[float, float]]]  # log-return bounds per level
    skill: dict[int, dict[str, Any]]
    trained_at: datetime | None
    fallback_reason: str = ""


@dataclass
class GenerationReport:
    created: int = 0
    existing: int = 0
    fallbacks: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _engine_loader(folder: Path, entry: dict[str, Any]) -> tuple[Any, cal.Calibration]:
    """mlserving loader: rebuild the forecaster and its calibration (hashes already checked)."""
    spec = ArtifactSpec.from_dict(entry.get("spec") or ArtifactSpec.read(folder).to_dict())
    forecaster = load_forecaster(folder, spec)
    calibration = cal.Calibration.read(folder / cal.CALIBRATION_FILE)
    return forecaster, calibration


def serve_model(
    *, key: str, model: str, history: pd.DataFrame, days: int, now: datetime | None = None
) -> ServedModel:
    """Predict ``days`` horizons with ``model``'s champion for ``key`` (falls back, labelled)."""
    refs = [f"{model}@champion"] + ([f"{BASELINE}@champion"] if model != BASELINE else [])
    served = ml_services.load_first(
        refs, key=key, loader=_engine_loader, loader_name="forecaster", strict=True, now=now
    )
    if served.servable is None:
        label = served.fallback_label.replace("served nothing", "served built-in naive")
        log.warning("forecasts.builtin_naive", key=key, requested=model, reason=label)
        return _builtin_naive(history, days=days, reason=label)
    forecaster, calibration = served.servable.obj
    version = served.servable.version
    try:
        raw = forecaster.predict(history.iloc[-PREDICT_TAIL_ROWS:])
    except Exception as exc:  # a broken model must not stop the other coins/models
        log.error("forecasts.predict_failed", key=key, model=version.model, error=repr(exc))
        if version.model == BASELINE:
            return _builtin_naive(history, days=days, reason=f"{model} predict failed: {exc}")
        fallback = serve_model(key=key, model=BASELINE, history=history, days=days, now=now)
        fallback.fallback_reason = (
            f"{model}@champion predict failed ({exc.__class__.__name__}); "
            f"served {fallback.model}@{fallback.version}"
        )
        return fallback
    returns = {int(h): float(r) for h, r in raw.items() if 1 <= int(h) <= days and math.isfinite(r)}
    sigma = cal.recent_volatility(history)
    return ServedModel(
        model=version.model,
        version=version.version,
        returns=returns,
        bounds={h: calibration.bounds(h, r, sigma) for h, r in returns.items()},
        skill=version.per_horizon,
        trained_at=version.created_at,
        fallback_reason=served.fallback_label,
    )


def _builtin_naive(history: pd.DataFrame, *, days: int, reason: str) -> ServedModel:
    """The random walk with intervals from recent empirical h-day moves (nothing trained)."""
    calibration = cal.Calibration.empirical(history, horizons=range(1, days + 1))
    sigma = cal.recent_volatility(history)
    returns = dict.fromkeys(range(1, days + 1), 0.0)
    return ServedModel(
        model=BASELINE,
        version=BUILTIN_VERSION,
        returns=returns,
        bounds={h: calibration.bounds(h, 0.0, sigma) for h in returns},
        skill={h: {"rel_mae": 1.0, "baseline": True} for h in returns},
        trained_at=None,
        fallback_reason=reason,
    )


# --- auto --------------------------------------------------------------------------------------


def auto_choice(
    *, key: str, horizons: Sequence[int], now: datetime | None = None
) -> dict[int, str]:
    """Per horizon, the champion with the best walk-forward relMAE among those with skill
    (relMAE < 1 and, when the engine measured it, a Diebold-Mariano win at 5%), else naive.

    Expired champions are not candidates. Skill was measured walk-forward at training time,
    on data before anything this forecast is about.
    """
    limit = ml_selectors.max_age_days()
    now = now or timezone.now()
    best: dict[int, tuple[float, str]] = {}
    for registered in ml_selectors.registered_models(key=key):
        name, champion = registered.model, registered.champion
        if name == BASELINE or name not in MODEL_TYPES or champion is None:
            continue
        created = champion.created_at
        if limit > 0 and created and (now - created) > timedelta(days=limit):
            continue
        for h, skill in champion.per_horizon.items():
            rel = skill.get("rel_mae")
            if rel is None or not math.isfinite(float(rel)) or float(rel) >= 1.0:
                continue
            if skill.get("skill") is False:  # relMAE < 1 but not significant (DM test)
                continue
            if h not in best or float(rel) < best[h][0]:
                best[h] = (float(rel), name)
    return {h: best[h][1] if h in best else BASELINE for h in horizons}


# --- issue -------------------------------------------------------------------------------------


def features_hash(history: pd.DataFrame) -> str:
    """sha256 of the feature row at the origin (what every model saw, rounded)."""
    row = build_features(history.iloc[-450:]).iloc[-1].to_numpy(dtype=float)
    text = ",".join("nan" if not np.isfinite(v) else f"{v:.10g}" for v in row)
    return hashlib.sha256(text.encode()).hexdigest()


def generate_forecasts(
    *,
    symbols: Sequence[str] | str,
    models: Sequence[str] | str | None = None,
    days: int | None = None,
    now: datetime | None = None,
    progress: Callable[[Iterable[Any]], Iterable[Any]] | None = None,
) -> GenerationReport:
    """Issue forecasts for every coin x model x horizon 1..``days`` from the latest candle.

    Idempotent: a coin/model already issued from the same last candle is left as it was
    (rows are immutable). Returns what was created, what existed and every fallback.
    """

    max_days = horizon_days()
    days = max_days if days is None else int(days)
    if not 1 <= days <= max_days:
        raise ForecastInputError(f"days must be between 1 and {max_days}")
    model_names = check_models(parse_csv(models) or default_models(), allow_auto=True)
    assets = selectors.resolve_assets(parse_csv(symbols))
    now = now or timezone.now()
    report = GenerationReport()
    work = [(a, m) for a in assets for m in model_names]
    iterator = progress(work) if progress else work
    histories: dict[str, pd.DataFrame] = {}
    served_cache: dict[tuple[str, str], ServedModel] = {}
    for asset, model in iterator:
        history = histories.get(asset.pk)
        if history is None:
            history = market_selectors.candle_frame(asset=asset, interval="1d")
            histories[asset.pk] = history
        if len(history) < 2:
            report.skipped.append(f"{asset.pk}: no daily candles")
            continue
        origin = history.index[-1].to_pydatetime()
        if Forecast.objects.filter(asset=asset, requested_model=model, data_until=origin).exists():
            report.existing += 1
            continue
        key = key_of(asset)
        if model == "auto":
            choice = auto_choice(key=key, horizons=range(1, days + 1), now=now)
            per_h = {}
            for h, chosen in choice.items():
                if (key, chosen) not in served_cache:
                    served_cache[(key, chosen)] = serve_model(
                        key=key, model=chosen, history=history, days=days, now=now
                    )
                per_h[h] = served_cache[(key, chosen)]
        else:
            if (key, model) not in served_cache:
                served_cache[(key, model)] = serve_model(
                    key=key, model=model, history=history, days=days, now=now
                )
            per_h = dict.fromkeys(range(1, days + 1), served_cache[key, model])
        fh = features_hash(history) if len(history) > 30 else ""
        created = _store(asset=asset, requested=model, per_h=per_h, history=history, now=now, fh=fh)
        report.created += created
        for s in {id(s): s for s in per_h.values()}.values():
            if s.fallback_reason:
                report.fallbacks.append(f"{asset.pk} {model}: {s.fallback_reason}")
    return report


@transaction.atomic
def _store(
    *,
    asset: Any,
    requested: str,
    per_h: dict[int, ServedModel],
    history: pd.DataFrame,
    now: datetime,
    fh: str,
) -> int:
    origin = history.index[-1].to_pydatetime()
    last_close = float(history["close"].iloc[-1])
    rows = []
    for h, served in sorted(per_h.items()):
        if h not in served.returns:
            continue
        r = served.returns[h]
        intervals = {
            str(level): [last_close * math.exp(lo), last_close * math.exp(hi)]
            for level, (lo, hi) in served.bounds[h].items()
        }
        rows.append(
            Forecast(
                asset=asset,
                requested_model=requested,
                model=served.model,
                model_version=served.version,
                fallback_reason=served.fallback_reason[:255],
                issued_at=now,
                data_until=origin,
                target_time=origin + timedelta(days=h),
                horizon=h,
                last_close=last_close,
                point=last_close * math.exp(r),
                intervals=intervals,
                skill=served.skill.get(h, {}),
                trained_at=served.trained_at,
                features_hash=fh,
            )
        )
    Forecast.objects.bulk_create(rows, ignore_conflicts=True)
    transaction.on_commit(response_cache.bump_generation)
    items = [stream_item(row) for row in rows]
    if items:
        channel = f"forecasts:{asset.pk}"
        transaction.on_commit(lambda: _publish(channel=channel, items=items))
        asset_ids = (str(asset.pk),)
        transaction.on_commit(lambda: _notify_listeners(asset_ids))
    return len(rows)


def stream_item(row: Forecast) -> dict[str, Any]:
    """What ``forecasts:<asset id>`` subscribers get per issued horizon (JSON-able; ``id`` is
    stable per issue: asset, requested model, origin, horizon)."""
    origin = row.data_until.isoformat()
    return {
        "id": f"{row.asset_id}:{row.requested_model}:{origin}:{row.horizon}",
        "asset": row.asset_id,
        "requested_model": row.requested_model,
        "model": row.model,
        "model_version": row.model_version,
        "fallback_reason": row.fallback_reason,
        "horizon": row.horizon,
        "target_time": row.target_time.isoformat(),
        "last_close": row.last_close,
        "point": row.point,
        "intervals": row.intervals,
        "skill": row.skill,
        "source": f"cryptocast:{row.model}@{row.model_version}",
        "as_of": origin,
        "issued_at": row.issued_at.isoformat(),
    }


def _publish(*, channel: str, items: list[dict[str, Any]]) -> None:
    streaming.publish(channel=channel, items=items, key="id")


__all__ = [
    "LEVELS",
    "GenerationReport",
    "ServedModel",
    "auto_choice",
    "forecasts_listener_register",
    "generate_forecasts",
    "serve_model",
]
