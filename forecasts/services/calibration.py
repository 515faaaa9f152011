"""Conformal intervals as stored with each artifact (``calibration.json``).

Split-conformal on walk-forward residuals, scaled by recent volatility: for horizon ``h`` the
score of a past forecast is ``|actual - predicted| / (sigma_t * sqrt(h))`` (log-returns,
``sigma_t`` = std of the 30 daily log-returns up to the origin). The stored quantile per
level uses the finite-sample rank ``ceil((n + 1) * level)``; at serving time the bounds are
``r_hat +/- q * sigma_now * sqrt(h)``. When the engine's own calibrator is available it is
used to compute the quantiles; the stored format stays this plain JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CALIBRATION_FILE = "calibration.json"
VOL_WINDOW = 30
LEVELS = (80, 90, 95)
MIN_SIGMA = 1e-4


def recent_volatility(history: pd.DataFrame, *, window: int = VOL_WINDOW) -> float:
    """Std of the last ``window`` daily log-returns of ``history`` (its last row included)."""
    lc = np.log(history["close"].to_numpy(dtype=float))
    r = np.diff(lc)
    if len(r) == 0:
        return 0.03
    tail = r[-window:]
    sigma = float(np.std(tail, ddof=1)) if len(tail) > 1 else float(abs(tail[0]))
    return max(sigma, MIN_SIGMA) if math.isfinite(sigma) else 0.03


def volatility_series(close: pd.Series, *, window: int = VOL_WINDOW) -> pd.Series:
    """``sigma_t`` for every row, using data up to t only."""
    r = np.log(close.astype(float)).diff()
    return r.rolling(window, min_periods=max(5, window // 3)).std().clip(lower=MIN_SIGMA)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    scores = np.sort(scores[np.isfinite(scores)])
    n = len(scores)
    if n == 0:
        return float("nan")
    rank = min(n, math.ceil((n + 1) * level))
    return float(scores[rank - 1])


@dataclass
class Calibration:
    """Per horizon and level, the conformal quantile of volatility-scaled absolute errors."""

    quantiles: dict[int, dict[str, float]]
    method: str = "split-conformal, volatility-scaled"
    vol_window: int = VOL_WINDOW
    n: dict[int, int] = field(default_factory=dict)

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_errors(cls, errors: pd.DataFrame, *, levels: Iterable[int] = LEVELS) -> Calibration:
        """``errors`` has columns ``horizon``, ``error`` (log-return) and ``sigma``."""
        quantiles: dict[int, dict[str, float]] = {}
        counts: dict[int, int] = {}
        for h, group in errors.groupby("horizon"):
            scores = (group["error"].abs() / (group["sigma"] * math.sqrt(int(h)))).to_numpy()
            quantiles[int(h)] = {str(lv): conformal_quantile(scores, lv / 100) for lv in levels}
            counts[int(h)] = int(np.isfinite(scores).sum())
        return cls(quantiles=quantiles, n=counts)

    @classmethod
    def empirical(
        cls, history: pd.DataFrame, *, horizons: Iterable[int], lookback: int = 730
    ) -> Calibration:
        """The random walk's own calibration from recent history (no model, nothing fitted)."""
        close = history["close"].astype(float).iloc[-lookback:]
        lc = np.log(close)
        sigma = volatility_series(close)
        frames = []
        for h in horizons:
            err = (lc.shift(-h) - lc).rename("error")
            frames.append(pd.DataFrame({"horizon": h, "error": err, "sigma": sigma}).dropna())
        empty = pd.DataFrame(columns=["horizon", "error", "sigma"])
        errors = pd.concat(frames) if frames else empty
        calib = cls.from_errors(errors)
        calib.method = "empirical random-walk moves, volatility-scaled"
        return calib

    # -- serving ------------------------------------------------------------------------------
    def bounds(self, horizon: int, point: float, sigma: float) -> dict[str, tuple[float, float]]:
        """Log-return bounds per level around the predicted log-return ``point``."""
        q = self._quantiles_for(horizon)
        width = sigma * math.sqrt(horizon)
        return {lv: (point - qv * width, point + qv * width) for lv, qv in q.items()}

    def _quantiles_for(self, horizon: int) -> Mapping[str, float]:
        own = self.quantiles.get(horizon)
        if own and all(math.isfinite(v) for v in own.values()):
            return own
        finite = {
            h: q for h, q in self.quantiles.items() if all(math.isfinite(v) for v in q.values())
        }
        if finite:  # nearest calibrated horizon
            nearest = min(finite, key=lambda h: abs(h - horizon))
            return finite[nearest]
        # Gaussian fallback (documented as such in ``method``)
        return {"80": 1.2816, "90": 1.6449, "95": 1.96}

    # -- storage ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "vol_window": self.vol_window,
            "quantiles": {str(h): q for h, q in sorted(self.quantiles.items())},
            "n": {str(h): c for h, c in sorted(self.n.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(
            quantiles={
                int(h): {str(k): float(v) for k, v in q.items()}
                for h, q in data["quantiles"].items()
            },
            method=str(data.get("method", "")),
            vol_window=int(data.get("vol_window", VOL_WINDOW)),
            n={int(h): int(c) for h, c in (data.get("n") or {}).items()},
        )

    def write(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def read(cls, path: Path) -> Calibration:
        return cls.from_dict(json.loads(Path(path).read_text()))
