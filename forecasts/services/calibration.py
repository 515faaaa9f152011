"""Intervals as stored with each artifact (``calibration.json``): the engine's conformal
calibrators, one per horizon.

The engine (``forecasts.engine.conformal``) scores walk-forward residuals as
``|actual - predicted| / (sigma_t * sqrt(h))`` (log-returns, EWMA volatility at the origin)
and keeps an adaptive split-conformal quantile per level. Training writes
``{"<h>": ConformalCalibrator.to_dict(), ...}``; serving rebuilds them and puts
``r_hat +/- q * sigma_now * sqrt(h)`` around each point. Plain JSON, no pickle.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forecasts.engine.conformal import ConformalCalibrator, current_sigma, ewma_volatility

CALIBRATION_FILE = "calibration.json"


def recent_volatility(history: pd.DataFrame) -> float:
    """Daily volatility at the last row of ``history`` (the engine's EWMA scale)."""
    return current_sigma(history)


@dataclass
class Calibration:
    """``{horizon: ConformalCalibrator}`` with a nearest-horizon fallback."""

    calibrators: dict[int, ConformalCalibrator]
    method: str = "adaptive split-conformal on walk-forward residuals, EWMA-volatility-scaled"

    def bounds(self, horizon: int, point: float, sigma: float) -> dict[str, tuple[float, float]]:
        """Log-return bounds per level (``{"80": (lo, hi), ...}``) around ``point``."""
        cal = self._for(horizon)
        return {str(lv): pair for lv, pair in cal.interval(point, sigma, horizon).items()}

    def _for(self, horizon: int) -> ConformalCalibrator:
        if horizon in self.calibrators:
            return self.calibrators[horizon]
        if self.calibrators:  # nearest calibrated horizon (scores are sqrt(h)-normalised)
            return self.calibrators[min(self.calibrators, key=lambda h: abs(h - horizon))]
        return ConformalCalibrator()  # Gaussian until scores exist

    # -- storage ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "horizons": {str(h): c.to_dict() for h, c in sorted(self.calibrators.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        per_h = data.get("horizons", data)
        return cls(
            calibrators={int(h): ConformalCalibrator.from_dict(c) for h, c in per_h.items()},
            method=str(data.get("method", cls.method)),
        )

    def write(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), sort_keys=True))

    @classmethod
    def read(cls, path: Path) -> Calibration:
        return cls.from_dict(json.loads(Path(path).read_text()))

    # -- the random walk's own, from recent history (nothing fitted) --------------------------
    @classmethod
    def empirical(
        cls, history: pd.DataFrame, *, horizons: Iterable[int], lookback: int = 730
    ) -> Calibration:
        close = history["close"].astype(float).iloc[-lookback:]
        lc = np.log(close.to_numpy())
        sigma = ewma_volatility(close).to_numpy()
        calibrators = {}
        for h in horizons:
            if len(lc) <= h:
                calibrators[h] = ConformalCalibrator()
                continue
            moves = np.abs(lc[h:] - lc[:-h]) / (sigma[:-h] * math.sqrt(h))
            calibrators[h] = ConformalCalibrator().extend(h, moves[np.isfinite(moves)])
        return cls(calibrators=calibrators, method="random-walk moves of recent history, conformal")
