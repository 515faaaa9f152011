"""``lightgbm``: direct multi-horizon gradient boosting, one booster per horizon.

Features are :func:`forecasts.engine.features.build_features` at the origin; the target of the
booster for horizon ``h`` is the log-return to ``t+h`` (winsorised at the 1st/99th percentile of
the training targets, so a single crash day does not dominate). Boosters are saved as
LightGBM text model files; feature names as JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..base import ArtifactSpec, EngineError, Forecaster, log_return_targets, read_json, write_json
from ..features import WARMUP_ROWS, build_features

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


class LightGBMForecaster(Forecaster):
    name = "lightgbm"
    min_history = WARMUP_ROWS + 60

    def __init__(self, num_boost_round: int = 200, max_train: int = 0, **params: Any) -> None:
        super().__init__(num_boost_round=int(num_boost_round), max_train=int(max_train), **params)
        self.boosters: dict[int, Any] = {}
        self.feature_names: list[str] = []

    def _lgb_params(self) -> dict[str, Any]:
        extra = {k: v for k, v in self.params.items() if k not in ("num_boost_round", "max_train")}
        return {**DEFAULT_PARAMS, **extra}

    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> LightGBMForecaster:
        import lightgbm as lgb

        history = self._start_fit(history, horizons)
        feats = build_features(history)
        targets = log_return_targets(history["close"], self.horizons)
        start = WARMUP_ROWS
        if self.params["max_train"]:
            start = max(start, len(history) - self.params["max_train"])
        self.feature_names = list(feats.columns)
        self.boosters = {}
        for h in self.horizons:
            y = targets[h].iloc[start:]
            x = feats.iloc[start:]
            ok = y.notna()
            if ok.sum() < 30:
                raise EngineError(f"lightgbm: too few training rows for horizon {h}")
            yv = y[ok].to_numpy()
            lo, hi = np.quantile(yv, [0.01, 0.99])
            data = lgb.Dataset(
                x[ok].to_numpy(dtype=np.float64),
                label=np.clip(yv, lo, hi),
                feature_name=self.feature_names,
                free_raw_data=True,
            )
            self.boosters[h] = lgb.train(
                self._lgb_params(), data, num_boost_round=self.params["num_boost_round"]
            )
        return self

    def _features_tail(self, history: pd.DataFrame) -> pd.DataFrame:
        return build_features(history.iloc[-FEATURE_TAIL:])[self.feature_names]

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        x = self._features_tail(history).iloc[[-1]].to_numpy(dtype=np.float64)
        return {h: float(self.boosters[h].predict(x)[0]) for h in self.horizons}

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
        preds = {h: self.boosters[h].predict(x) for h in self.horizons}
        return {o: {h: float(preds[h][i]) for h in self.horizons} for i, o in enumerate(origins)}

    def save(self, directory: Path) -> ArtifactSpec:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        files = {}
        for h, booster in self.boosters.items():
            name = f"booster_h{h}.txt"
            booster.save_model(str(directory / name))
            files[f"booster_h{h}"] = name
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
        import lightgbm as lgb

        directory = Path(directory)
        params = {k: v for k, v in spec.params.items() if k != "lgb_params"}
        model = cls(**params)
        model.horizons = list(spec.horizons)
        model.training_window = dict(spec.training_window)
        model.feature_names = list(read_json(directory / spec.files["feature_names"]))
        model.boosters = {
            h: lgb.Booster(model_file=str(directory / spec.files[f"booster_h{h}"]))
            for h in model.horizons
        }
        return model
