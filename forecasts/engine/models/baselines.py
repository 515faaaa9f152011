"""Baselines: the random walk (``naive``) and the random walk with drift (``drift``).

Both are stateless: ``predict`` recomputes from the history it is given, so a refit schedule
does not matter for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..forecaster import ArtifactSpec, Forecaster, write_json


class NaiveForecaster(Forecaster):
    """Tomorrow = today: a predicted log-return of 0 at every horizon (the bar to beat)."""

    name = "naive"

    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> NaiveForecaster:
        self._start_fit(history, horizons)
        return self

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        return dict.fromkeys(self.horizons, 0.0)

    def save(self, directory: Path) -> ArtifactSpec:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_json(directory / "params.json", {"model_type": self.name, **self.params})
        return self._spec("json", files={"params": "params.json"}, params=dict(self.params))

    @classmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> NaiveForecaster:
        model = cls(**spec.params)
        model.horizons = list(spec.horizons)
        model.training_window = dict(spec.training_window)
        return model


class DriftForecaster(NaiveForecaster):
    """Random walk with drift: ``h`` x the mean daily log-return of the last ``window`` days.

    ``window=0`` uses the whole history (the textbook drift method); the default (365) keeps the
    drift local, which matters for crypto's regime changes.
    """

    name = "drift"

    def __init__(self, window: int = 365, **params: object) -> None:
        super().__init__(window=int(window), **params)

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        lc = np.log(history["close"].to_numpy(dtype=float))
        window = int(self.params["window"]) or len(lc) - 1
        window = max(1, min(window, len(lc) - 1))
        if len(lc) < 2:
            return dict.fromkeys(self.horizons, 0.0)
        mu = (lc[-1] - lc[-1 - window]) / window
        return {h: float(mu * h) for h in self.horizons}
