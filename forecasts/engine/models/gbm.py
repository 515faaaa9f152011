"""``lightgbm``: direct multi-horizon gradient boosting.

Features are :func:`forecasts.engine.features.build_features` at the origin; the target for
horizon ``h`` is the log-return to ``t+h`` (winsorised at the 1st/99th percentile of the
training targets of that horizon, so a single crash day does not dominate). Two layouts
(``horizon_mode``):

- ``per_horizon``: one booster per horizon (30 fits for 30 horizons);
- ``pooled``: one booster for every horizon, trained on the stacked (origin, horizon) rows
  with the horizon as a feature and the target divided by ``sqrt(h)`` (so one Huber
  threshold fits every horizon); predictions are multiplied back.

Which one is the default is decided by walk-forward skill (``docs/forecasting-lightgbm-
horizons.md``, ``FORECAST_LIGHTGBM_HORIZON_MODE``). Boosters are saved as LightGBM text
model files; feature names as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..features import WARMUP_ROWS, build_features
from ..forecaster import (
    ArtifactSpec,
    EngineError,
    Forecaster,
    log_return_targets,
    read_json,
    write_json,
)

#: rows of history fed to build_features at predict time: > the longest window, and long
#: enough that the exponentially weighted indicators have forgotten their start (< 1e-10)
FEATURE_TAIL = 420

DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "huber",
    "alpha": 0.05,
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_data_in_leaf": 60,
    "feature_fraction": 0.7,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 5.0,
    "num_threads": 2,
    "seed": 7,
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
}


HORIZON_MODES = ("per_horizon", "pooled")
#: the booster key of the pooled layout (per-horizon boosters are keyed by their horizon)
POOLED = 0
HORIZON_FEATURE = "horizon"
_OWN_PARAMS = ("num_boost_round", "max_train", "horizon_mode")


class LightGBMForecaster(Forecaster):
    name = "lightgbm"
    min_history = WARMUP_ROWS + 60

    def __init__(
        self,
        num_boost_round: int = 200,
        max_train: int = 0,
        horizon_mode: str = "per_horizon",
        **params: Any,
    ) -> None:
        if horizon_mode not in HORIZON_MODES:
            raise EngineError(
                f"lightgbm: horizon_mode must be one of {', '.join(HORIZON_MODES)}, "
                f"not {horizon_mode!r}"
            )
        super().__init__(
            num_boost_round=int(num_boost_round),
            max_train=int(max_train),
            horizon_mode=horizon_mode,
            **params,
        )
        self.boosters: dict[int, Any] = {}
        self.feature_names: list[str] = []

    @property
    def pooled(self) -> bool:
        return self.params["horizon_mode"] == "pooled"

    def _lgb_params(self) -> dict[str, Any]:
        extra = {k: v for k, v in self.params.items() if k not in _OWN_PARAMS}
        return {**DEFAULT_PARAMS, **extra}

    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> LightGBMForecaster:
        # deferred: lightgbm (and OpenMP) only in processes that fit or load this model
        import lightgbm as lgb

        history = self._start_fit(history, horizons)
        feats = build_features(history)
        targets = log_return_targets(history["close"], self.horizons)
        start = WARMUP_ROWS
        if self.params["max_train"]:
            start = max(start, len(history) - self.params["max_train"])
        self.feature_names = list(feats.columns)
        self.boosters = {}
        x_parts: list[np.ndarray] = []
        y_parts: list[np.ndarray] = []
        for h in self.horizons:
            y = targets[h].iloc[start:]
            x = feats.iloc[start:]
            ok = y.notna()
            if ok.sum() < 30:
                raise EngineError(f"lightgbm: too few training rows for horizon {h}")
            yv = y[ok].to_numpy()
            lo, hi = np.quantile(yv, [0.01, 0.99])
            xv = x[ok].to_numpy(dtype=np.float64)
            if self.pooled:
                x_parts.append(np.column_stack([xv, np.full(len(xv), float(h))]))
                y_parts.append(np.clip(yv, lo, hi) / np.sqrt(h))
                continue
            data = lgb.Dataset(
                xv, label=np.clip(yv, lo, hi), feature_name=self.feature_names, free_raw_data=True
            )
            self.boosters[h] = lgb.train(
                self._lgb_params(), data, num_boost_round=self.params["num_boost_round"]
            )
        if self.pooled:
            data = lgb.Dataset(
                np.vstack(x_parts),
                label=np.concatenate(y_parts),
                feature_name=[*self.feature_names, HORIZON_FEATURE],
                free_raw_data=True,
            )
            self.boosters[POOLED] = lgb.train(
                self._lgb_params(), data, num_boost_round=self.params["num_boost_round"]
            )
        return self

    def _predict_matrix(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """Log-return predictions per horizon for the feature rows ``x``."""
        if not self.pooled:
            return {h: self.boosters[h].predict(x) for h in self.horizons}
        booster = self.boosters[POOLED]
        return {
            h: booster.predict(np.column_stack([x, np.full(len(x), float(h))])) * np.sqrt(h)
            for h in self.horizons
        }

    def _features_tail(self, history: pd.DataFrame) -> pd.DataFrame:
        return build_features(history.iloc[-FEATURE_TAIL:])[self.feature_names]

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        x = self._features_tail(history).iloc[[-1]].to_numpy(dtype=np.float64)
        return {h: float(p[0]) for h, p in self._predict_matrix(x).items()}

    def predict_path(
        self, history: pd.DataFrame, origins: Sequence[pd.Timestamp]
    ) -> dict[pd.Timestamp, dict[int, float]]:
        self._check_fitted()
        if not len(origins):
            return {}
        first = history.index.get_loc(origins[0])
        tail = history.iloc[max(0, first - FEATURE_TAIL) :]
        feats = build_features(tail)[self.feature_names].loc[list(origins)]
        x = feats.to_numpy(dtype=np.float64)
        preds = self._predict_matrix(x)
        return {o: {h: float(preds[h][i]) for h in self.horizons} for i, o in enumerate(origins)}

    def save(self, directory: Path) -> ArtifactSpec:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = {}
        for h, booster in self.boosters.items():
            label = "booster_pooled" if h == POOLED else f"booster_h{h}"
            booster.save_model(str(directory / f"{label}.txt"))
            files[label] = f"{label}.txt"
        write_json(directory / "feature_names.json", self.feature_names)
        files["feature_names"] = "feature_names.json"
        return self._spec(
            "lightgbm-text",
            files=files,
            feature_names=list(self.feature_names),
            params={**self.params, "lgb_params": self._lgb_params()},
        )

    @classmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> LightGBMForecaster:
        # deferred: lightgbm (and OpenMP) only in processes that fit or load this model
        import lightgbm as lgb

        directory = Path(directory)
        params = {k: v for k, v in spec.params.items() if k != "lgb_params"}
        model = cls(**params)
        model.horizons = list(spec.horizons)
        model.training_window = dict(spec.training_window)
        model.feature_names = list(read_json(directory / spec.files["feature_names"]))
        labels = (
            {POOLED: "booster_pooled"}
            if model.pooled
            else {h: f"booster_h{h}" for h in model.horizons}
        )
        model.boosters = {
            h: lgb.Booster(model_file=str(directory / spec.files[label]))
            for h, label in labels.items()
        }
        return model
