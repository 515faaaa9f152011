"""``ensemble``: Ridge stacking over out-of-fold (walk-forward) predictions of base models.

Defaults: 3 folds of 60 days, bases drift/ets/arima/lightgbm.

``fit`` runs the base models walk-forward over the last ``n_folds x fold_days`` origins of the
history (each fold fitted only on data before it), fits one non-negative Ridge per horizon on
those out-of-fold predictions (no intercept: all-zero weights = the naive forecast, so the
ridge penalty shrinks towards naive), then refits the bases on the whole history. The weights
are in ``ArtifactSpec.params["weights"]`` and in ``weights.json`` (plain JSON, no pickle).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..forecaster import ArtifactSpec, EngineError, Forecaster, log_return_targets, write_json
from .registry import MODEL_TYPES, get_forecaster, load_forecaster

DEFAULT_BASES = ("drift", "ets", "arima", "lightgbm")


class EnsembleForecaster(Forecaster):
    name = "ensemble"

    def __init__(
        self,
        base_models: Sequence[str] = DEFAULT_BASES,
        n_folds: int = 3,
        fold_days: int = 60,
        alpha: float = 1.0,
        base_params: dict[str, dict[str, Any]] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(
            base_models=list(base_models),
            n_folds=int(n_folds),
            fold_days=int(fold_days),
            alpha=float(alpha),
            base_params=dict(base_params or {}),
            **params,
        )
        if "ensemble" in self.params["base_models"]:
            raise EngineError("ensemble cannot contain itself")
        self.bases: dict[str, Forecaster] = {}
        self.weights: dict[int, dict[str, float]] = {}

    @property
    def min_history(self) -> int:  # type: ignore[override]
        need = max(MODEL_TYPES[b].min_history for b in self.params["base_models"])
        return need + self.params["n_folds"] * self.params["fold_days"] + 7

    def _new_base(self, name: str) -> Forecaster:
        return get_forecaster(name, **self.params["base_params"].get(name, {}))

    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> EnsembleForecaster:
        history = self._start_fit(history, horizons)
        names = list(self.params["base_models"])
        n, hmax = len(history), max(self.horizons)
        span = self.params["n_folds"] * self.params["fold_days"]
        first = n - hmax - span
        targets = log_return_targets(history["close"], self.horizons)
        rows: dict[int, list[list[float]]] = {h: [] for h in self.horizons}
        ys: dict[int, list[float]] = {h: [] for h in self.horizons}
        for k in range(self.params["n_folds"]):
            start = first + k * self.params["fold_days"]
            origins = list(history.index[start : start + self.params["fold_days"]])
            train = history.iloc[:start]
            preds = {
                name: self._new_base(name).fit(train, self.horizons).predict_path(history, origins)
                for name in names
            }
            for o in origins:
                for h in self.horizons:
                    y = targets.at[o, h]
                    if np.isfinite(y):
                        rows[h].append([preds[name][o][h] for name in names])
                        ys[h].append(float(y))
        # deferred: scikit-learn is needed only to fit the stacking weights
        from sklearn.linear_model import Ridge

        self.weights = {}
        for h in self.horizons:
            x, y = np.asarray(rows[h]), np.asarray(ys[h])
            scale = float(np.std(y)) or 1.0
            ridge = Ridge(alpha=self.params["alpha"], fit_intercept=False, positive=True)
            ridge.fit(x / scale, y / scale)
            self.weights[h] = {name: float(w) for name, w in zip(names, ridge.coef_, strict=True)}
        self.bases = {name: self._new_base(name).fit(history, self.horizons) for name in names}
        return self

    def _combine(self, base_preds: dict[str, dict[int, float]]) -> dict[int, float]:
        return {
            h: float(sum(w * base_preds[name][h] for name, w in self.weights[h].items()))
            for h in self.horizons
        }

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        return self._combine({name: m.predict(history) for name, m in self.bases.items()})

    def predict_path(
        self, history: pd.DataFrame, origins: Sequence[pd.Timestamp]
    ) -> dict[pd.Timestamp, dict[int, float]]:
        self._check_fitted()
        paths = {name: m.predict_path(history, origins) for name, m in self.bases.items()}
        return {o: self._combine({n: p[o] for n, p in paths.items()}) for o in origins}

    def save(self, directory: Path) -> ArtifactSpec:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        base_specs: dict[str, dict[str, Any]] = {}
        scaler_files: dict[str, str] = {}
        for name, model in self.bases.items():
            spec = model.save(directory / f"base_{name}")
            base_specs[name] = spec.to_dict()
            for role, rel in spec.files.items():
                files[f"{name}.{role}"] = f"base_{name}/{rel}"
            for role, rel in spec.scaler_files.items():
                scaler_files[f"{name}.{role}"] = f"base_{name}/{rel}"
        weights = {str(h): w for h, w in self.weights.items()}
        write_json(directory / "weights.json", weights)
        files["weights"] = "weights.json"
        return self._spec(
            "ensemble",
            files=files,
            scaler_files=scaler_files,
            feature_names=sorted({f for s in base_specs.values() for f in s["feature_names"]}),
            params={**self.params, "weights": weights, "base_specs": base_specs},
            refit_on_load=any(s["refit_on_load"] for s in base_specs.values()),
        )

    @classmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> EnsembleForecaster:
        directory = Path(directory)
        params = {k: v for k, v in spec.params.items() if k not in ("weights", "base_specs")}
        model = cls(**params)
        model.horizons = list(spec.horizons)
        model.training_window = dict(spec.training_window)
        model.weights = {int(h): dict(w) for h, w in spec.params["weights"].items()}
        model.bases = {
            name: load_forecaster(directory / f"base_{name}", ArtifactSpec.from_dict(s))
            for name, s in spec.params["base_specs"].items()
        }
        return model
