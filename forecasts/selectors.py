"""Reads of `forecasts`: the API's payloads, built from stored rows and the manifest only.

Nothing here trains or loads a model. The one "model call" of a request is the mlserving
lookup that checks the stored rows' model version is still in the manifest and not expired
(a dict lookup after a ``stat`` of ``manifest.json``).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

from django.conf import settings
from django.db.models import F, Max
from django.utils import timezone

from forecasts.catalogue import (
    BASELINE,
    BUILTIN_VERSION,
    LEVELS,
    MODEL_TYPES,
    REQUESTABLE_MODELS,
    ForecastInputError,
)
from forecasts.models import FINAL_TASK_STATUSES, Forecast, ForecastRun, ForecastRunTask
from markets import selectors as market_selectors
from mlserving import selectors as ml_selectors
from mlserving.contracts import ArtifactError

#: time spent in mlserving lookups by the current process (read by the benchmark)
MODEL_CALL_SECONDS = [0.0]


class UnknownAssets(ForecastInputError):
    """Ids or symbols that name no asset: all of them (``missing``), each with why."""

    def __init__(self, missing: Sequence[str], reasons: dict[str, str] | None = None) -> None:
        self.missing = list(missing)
        self.reasons = dict(reasons or {})
        super().__init__(
            "; ".join(
                f"unknown coin {m!r}: {self.reasons.get(m, 'no such asset')}" for m in missing
            )
        )


def resolve_assets(ids: Sequence[str]) -> list[Any]:
    """Assets for canonical ids or symbols, in request order; unknown ones raise together
    (``UnknownAssets``), and so does an empty list (``ForecastInputError``)."""
    if not ids:
        raise ForecastInputError("no coins given")
    found, reasons = [], {}
    for raw in ids:
        try:
            found.append(market_selectors.asset_get(raw))
        except market_selectors.AssetNotFound as exc:
            reasons[raw] = str(exc)
    if reasons:
        raise UnknownAssets(list(reasons), reasons)
    return found


def assets_with_forecasts(*, model: str, limit: int = 20) -> list[Any]:
    ids = list(
        Forecast.objects.filter(requested_model=model)
        .values_list("asset_id", flat=True)
        .distinct()
        .order_by("asset_id")[:limit]
    )
    return resolve_assets(ids) if ids else []


def latest_issue(*, asset_id: str, requested_model: str, days: int) -> list[Forecast]:
    """Rows of the newest issue of ``requested_model`` for the asset (horizons 1..days)."""
    latest = Forecast.objects.filter(asset_id=asset_id, requested_model=requested_model).aggregate(
        m=Max("data_until")
    )["m"]
    if latest is None:
        return []
    return list(
        Forecast.objects.filter(
            asset_id=asset_id,
            requested_model=requested_model,
            data_until=latest,
            horizon__lte=days,
        ).order_by("horizon")
    )


def _servable(key: str, rows: Iterable[Forecast], *, now: datetime) -> str:
    """'' when every stored version may still be served; else why not (for the label)."""
    started = time.perf_counter()
    try:
        for model, version in sorted({(r.model, r.model_version) for r in rows}):
            if version == BUILTIN_VERSION or not version:
                continue
            try:
                ml_selectors.version_resolve(key=key, ref=f"{model}@{version}", now=now)
            except ArtifactError as exc:
                return f"{model}@{version} refused ({exc.reason})"
        return ""
    finally:
        MODEL_CALL_SECONDS[0] += time.perf_counter() - started


def _mean(values: Iterable[Any]) -> float | None:
    vals = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return round(fmean(vals), 4) if vals else None


def summarise_skill(skills: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean walk-forward skill over the served horizons."""
    return {
        "rel_mae": _mean(s.get("rel_mae") for s in skills),
        "mase": _mean(s.get("mase") for s in skills),
        "directional_accuracy": _mean(s.get("directional_accuracy") for s in skills),
        "coverage": {
            str(lv): _mean((s.get("coverage") or {}).get(str(lv)) for s in skills) for lv in LEVELS
        },
        "horizons": len(skills),
    }


def naive_skill(*, key: str, horizons: Sequence[int]) -> dict[str, Any]:
    """The random walk's own walk-forward numbers on the same horizons (from its champion)."""
    champion = ml_selectors.champion(key=key, model=BASELINE)
    per_h = champion.per_horizon if champion is not None else {}
    out = summarise_skill([per_h[h] for h in horizons if h in per_h])
    out["rel_mae"] = 1.0  # by definition
    out["model"] = BASELINE
    out["version"] = champion.version if champion is not None else None
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def coin_forecast(*, asset: Any, model: str, days: int, now: datetime | None = None) -> dict:
    """One coin's forecast payload, falling back to naive (labelled) when needed."""
    now = now or timezone.now()
    key = str(asset.symbol).upper()
    rows = latest_issue(asset_id=asset.pk, requested_model=model, days=days)
    fallback = ""
    if not rows:
        fallback = f"no {model} forecasts issued for {asset.pk}"
    else:
        refused = _servable(key, rows, now=now)
        if refused:
            fallback = refused
            rows = []
    served_model = model
    if not rows and model != BASELINE:
        rows = latest_issue(asset_id=asset.pk, requested_model=BASELINE, days=days)
        served_model = BASELINE
        fallback = f"{fallback}; served naive" if rows else f"{fallback}; nothing to serve"
    if not rows:
        skipped = issue_skip_reason(asset_id=asset.pk)
        if skipped:
            fallback = skipped  # e.g. "not enough history: 50 daily candles, ... at least 240"
    stored_labels = sorted({r.fallback_reason for r in rows if r.fallback_reason})
    if rows and not fallback and stored_labels:
        fallback = " | ".join(stored_labels)
    first = rows[0] if rows else None
    horizons = [r.horizon for r in rows]
    points = []
    for r in rows:
        point = {
            "date": r.target_time.date().isoformat(),
            "horizon": r.horizon,
            "point": r.point,
            "lower": {lv: pair[0] for lv, pair in r.intervals.items()},
            "upper": {lv: pair[1] for lv, pair in r.intervals.items()},
        }
        if model == "auto":
            point["model"] = r.model
            point["version"] = r.model_version
        points.append(point)
    versions = sorted({r.model_version for r in rows})
    used = sorted({r.model for r in rows})
    trained = [r.trained_at for r in rows if r.trained_at]
    # How old the forecast's origin (its last candle) is against the server clock: a forecast
    # made from old data is still served, but says so.
    age_days = round((now - first.data_until).total_seconds() / 86400.0, 2) if first else None
    limit = settings.FORECAST_STALE_AFTER_DAYS
    stale = age_days is None or age_days > limit
    return {
        "id": asset.pk,
        "symbol": asset.symbol,
        "requested_model": model,
        "model": used[0] if len(used) == 1 else served_model,
        "models_used": used,
        "version": versions[0] if len(versions) == 1 else (versions or None),
        "trained_at": _iso(min(trained)) if trained else None,
        "data_until": first.data_until.date().isoformat() if first else None,
        "origin_age_days": age_days,
        "stale": stale,
        "stale_reason": (
            (
                f"the origin ({first.data_until.date().isoformat()}) is {age_days:g} days "
                f"before now (limit {limit:g})"
                if first
                else "nothing issued"
            )
            if stale
            else ""
        ),
        "issued_at": _iso(first.issued_at) if first else None,
        "last_close": first.last_close if first else None,
        "fallback": fallback or None,
        "skill": summarise_skill([r.skill for r in rows]),
        "naive_skill": naive_skill(key=key, horizons=horizons),
        "levels": list(LEVELS),
        "points": points,
    }


# --- /forecasts/models ---------------------------------------------------------------------------


def model_catalogue(*, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    limit = ml_selectors.max_age_days()
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for registered in ml_selectors.registered_models():
        versions = []
        for v in reversed(registered.versions):  # newest first
            age = v.age_days(now=now)
            age = round(age, 2) if age is not None else None
            versions.append(
                {
                    "version": v.version,
                    "aliases": list(v.aliases),
                    "format": v.format,
                    "created_at": v.created,
                    "age_days": age,
                    "expired": bool(limit > 0 and age is not None and age > limit),
                    "skill_score": v.metrics.get("skill_score"),
                    "training_window": dict(v.training_window),
                    "size": v.size,
                    "sha256": v.sha256,
                }
            )
        by_key[registered.key].append(
            {"model": registered.model, "aliases": dict(registered.aliases), "versions": versions}
        )
    return {
        "model_types": list(MODEL_TYPES),
        "requestable": list(REQUESTABLE_MODELS),
        "max_age_days": limit or None,
        "manifest_updated_at": ml_selectors.manifest_updated_at(),
        "coins": [
            {"key": key, "models": by_key.get(key, [])} for key in ml_selectors.registered_keys()
        ],
    }


# --- /forecasts/performance ----------------------------------------------------------------------


def _backtest_metrics(key: str) -> dict[str, dict[int, dict[str, Any]]]:
    """Per model, its champion's walk-forward figures per horizon (with the version)."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for registered in ml_selectors.registered_models(key=key):
        champion = registered.champion
        if champion is None:
            out[registered.model] = {}
            continue
        out[registered.model] = {
            h: dict(v, version=champion.version) for h, v in champion.per_horizon.items()
        }
    return out


def _live_accuracy(asset_id: str, *, since: datetime) -> dict[str, dict[int, dict[str, Any]]]:
    """Scored archive rows per model and horizon, each beside naive on the same targets."""
    rows = (
        Forecast.objects.filter(asset_id=asset_id, actual__isnull=False, target_time__gte=since)
        .exclude(requested_model="auto")
        .values_list(
            "model", "requested_model", "data_until", "horizon", "point", "actual", "intervals"
        )
    )
    naive_err: dict[tuple[datetime, int], float] = {}
    by: dict[tuple[str, int], list[tuple[datetime, float, float, dict]]] = defaultdict(list)
    for model, requested, origin, h, point, actual, intervals in rows:
        if actual is None:  # excluded by the filter; narrows the type
            continue
        if requested == BASELINE:
            naive_err[(origin, h)] = abs(actual - point)
        if model == requested:  # fallbacks are the fallback model's numbers, not the request's
            by[(model, h)].append((origin, point, actual, intervals))
    out: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    for (model, h), items in sorted(by.items()):
        errs = [abs(a - p) for _, p, a, _ in items]
        paired = [(abs(a - p), naive_err[(o, h)]) for o, p, a, _ in items if (o, h) in naive_err]
        naive_sum = sum(n for _, n in paired)
        coverage = {}
        for lv in LEVELS:
            inside = [
                iv[str(lv)][0] <= a <= iv[str(lv)][1] for _, _, a, iv in items if str(lv) in iv
            ]
            coverage[str(lv)] = round(sum(inside) / len(inside), 4) if inside else None
        out[model][h] = {
            "n": len(items),
            "mae": round(fmean(errs), 6),
            "mape": round(fmean(abs(a - p) / a for _, p, a, _ in items) * 100, 4),
            "rel_mae_vs_naive": (
                round(sum(e for e, _ in paired) / naive_sum, 4) if paired and naive_sum else None
            ),
            "paired_with_naive": len(paired),
            "coverage": coverage,
        }
    return out


def performance(*, assets: Sequence[Any], models: Sequence[str] | None = None) -> list[dict]:
    """Per coin, per model and horizon: backtest metrics and live accuracy, beside naive."""
    since = timezone.now() - timedelta(days=365)
    wanted = set(models or MODEL_TYPES) | {BASELINE}
    result = []
    for asset in assets:
        key = str(asset.symbol).upper()
        backtest = _backtest_metrics(key)
        live = _live_accuracy(asset.pk, since=since)
        entries = []
        for model in [m for m in MODEL_TYPES if m in wanted]:
            horizons = sorted(set(backtest.get(model, {})) | set(live.get(model, {})))
            for h in horizons:
                entries.append(
                    {
                        "model": model,
                        "horizon": h,
                        "backtest": backtest.get(model, {}).get(h),
                        "live": live.get(model, {}).get(h),
                        "naive_backtest": backtest.get(BASELINE, {}).get(h),
                        "naive_live": live.get(BASELINE, {}).get(h),
                    }
                )
        result.append({"id": asset.pk, "symbol": asset.symbol, "entries": entries})
    return result


# --- fanned-out runs ------------------------------------------------------------------------------


def run_active(*, kind: str) -> ForecastRun | None:
    """The newest unfinished run of ``kind`` (a periodic job does not start a second one)."""
    return ForecastRun.objects.filter(kind=kind, finished_at__isnull=True).first()


def run_latest(*, kind: str) -> ForecastRun | None:
    return ForecastRun.objects.filter(kind=kind).first()


def run_summary(*, run: ForecastRun) -> dict[str, Any]:
    """Counts per status and the failures of one run (what the task and the command print)."""
    counts: dict[str, int] = defaultdict(int)
    failures: list[str] = []
    skipped: list[str] = []
    rows = ForecastRunTask.objects.filter(run_id=run.pk).order_by("id")
    for status, asset_id, model, detail in rows.values_list(
        "status", "asset_id", "model", "detail"
    ):
        counts[status] += 1
        if status == "failed":
            failures.append(f"{asset_id}/{model}: {detail}")
        elif status == "skipped":
            skipped.append(f"{asset_id}/{model}: {detail}")
    return {
        "run": run.pk,
        "kind": run.kind,
        "status": run.status,
        "finished": run.finished_at is not None,
        "counts": dict(sorted(counts.items())),
        "pending": sum(v for k, v in counts.items() if k not in FINAL_TASK_STATUSES),
        "failures": failures[:50],
        "skipped": skipped[:50],
    }


def issue_skip_reason(*, asset_id: str) -> str:
    """Why the latest issuing run skipped this coin ("not enough history: ..."), or ""."""
    task = (
        ForecastRunTask.objects.filter(run__kind="issue", asset_id=asset_id)
        .order_by("-run__created_at", "-run_id")
        .only("status", "detail")
        .first()
    )
    return task.detail if task is not None and task.status == "skipped" else ""


def run_task_list(*, run: ForecastRun) -> Any:
    """The run's tasks for the training endpoint (asset joined; ranked coins first)."""
    return (
        ForecastRunTask.objects.filter(run=run)
        .select_related("asset")
        .order_by(F("asset__rank").asc(nulls_last=True), "asset_id", "model")
    )
