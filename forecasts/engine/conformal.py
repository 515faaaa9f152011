"""Prediction intervals by conformal prediction on walk-forward residuals, volatility-scaled.

Nonconformity score of a past forecast ``i`` (log-return space)::

    s_i = |y_i - yhat_i| / sigma_i,    sigma_i = EWMA daily volatility at its origin x sqrt(h)

The interval at a new origin is ``yhat +- q x sigma_now`` where ``q`` is the finite-sample
conformal quantile of the last ``window`` realised scores at level ``L``
(rank ``ceil((n + 1) L)``). With ``adaptive=True`` the level is nudged online after each
realised outcome (adaptive conformal inference, Gibbs & Candes 2021):
``alpha <- alpha + gamma (alpha_target - miss)``, which restores coverage after regime changes.
Until ``min_scores`` scores exist the Gaussian quantile is used (scores are ~N(0,1)-scaled).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

DEFAULT_LEVELS = (80, 90, 95)
EWMA_LAMBDA = 0.94  # RiskMetrics daily decay


def ewma_volatility(close: pd.Series, lam: float = EWMA_LAMBDA, min_periods: int = 20) -> pd.Series:
    """Causal EWMA volatility of daily log-returns (value at t uses returns up to t)."""
    r = np.log(close.astype(float)).diff()
    var = (r**2).ewm(alpha=1.0 - lam, adjust=False, min_periods=min_periods).mean()
    sigma = np.sqrt(var)
    # a floor: a perfectly flat stretch must not give zero-width intervals
    floor = r.abs().expanding(min_periods=2).median().fillna(1e-4).clip(lower=1e-4)
    return sigma.fillna(r.rolling(20, min_periods=2).std()).fillna(0.02).clip(lower=floor)


def current_sigma(history: pd.DataFrame) -> float:
    """Daily volatility scale at the last row of ``history`` (for serving fresh forecasts)."""
    return float(ewma_volatility(history["close"].iloc[-400:]).iloc[-1])


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Finite-sample split-conformal quantile: the ``ceil((n+1) level)``-th smallest score."""
    scores = np.sort(np.asarray(scores, dtype=float))
    n = len(scores)
    if n == 0:
        return float("inf")
    rank = math.ceil((n + 1) * level)
    if rank > n:
        return float(scores[-1]) * (1.0 + 1.0 / n)  # not enough scores for this level
    return float(scores[max(rank, 1) - 1])


@dataclass
class ConformalCalibrator:
    """Online, per-horizon conformal calibrator (JSON-serialisable with ``to_dict``)."""

    levels: Sequence[int] = DEFAULT_LEVELS
    window: int = 365
    min_scores: int = 30
    adaptive: bool = True
    gamma: float = 0.005
    scores: dict[int, list[float]] = field(default_factory=dict)
    alphas: dict[int, dict[int, float]] = field(default_factory=dict)

    # -- state ---------------------------------------------------------------------------
    def _alpha(self, horizon: int, level: int) -> float:
        per_h = self.alphas.setdefault(int(horizon), {})
        return per_h.setdefault(int(level), 1.0 - level / 100.0)

    def update(self, horizon: int, score: float) -> None:
        """Add one realised score (and adapt the levels) for ``horizon``."""
        h = int(horizon)
        if not np.isfinite(score):
            return
        if self.adaptive:
            for level in self.levels:
                alpha = self._alpha(h, level)
                miss = float(score > self.multiplier(h, level))
                target = 1.0 - level / 100.0
                new = alpha + self.gamma * (target - miss)
                self.alphas[h][int(level)] = float(min(max(new, target / 4.0), 2.0 * target))
        bucket = self.scores.setdefault(h, [])
        bucket.append(float(score))
        if len(bucket) > self.window:
            del bucket[: len(bucket) - self.window]

    def extend(self, horizon: int, scores: Iterable[float]) -> ConformalCalibrator:
        for s in scores:
            self.update(horizon, s)
        return self

    # -- intervals -----------------------------------------------------------------------
    def multiplier(self, horizon: int, level: int) -> float:
        """``q`` such that ``yhat +- q sigma`` is the ``level``% interval."""
        h = int(horizon)
        scores = self.scores.get(h, [])
        coverage = 1.0 - (self._alpha(h, level) if self.adaptive else 1.0 - level / 100.0)
        if len(scores) < self.min_scores:
            return NormalDist().inv_cdf(0.5 + coverage / 2.0)
        return conformal_quantile(np.asarray(scores), coverage)

    def interval(self, point: float, sigma: float, horizon: int) -> dict[int, tuple[float, float]]:
        """``{level: (lower, upper)}`` in log-return space around ``point``.

        ``sigma`` is the *daily* volatility at the origin (:func:`current_sigma`); it is
        scaled by ``sqrt(horizon)`` here.
        """
        s = float(sigma) * math.sqrt(int(horizon))
        out = {}
        for level in self.levels:
            q = self.multiplier(horizon, level)
            out[int(level)] = (float(point - q * s), float(point + q * s))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "levels": [int(x) for x in self.levels],
            "window": self.window,
            "min_scores": self.min_scores,
            "adaptive": self.adaptive,
            "gamma": self.gamma,
            "scores": {str(h): v for h, v in self.scores.items()},
            "alphas": {str(h): {str(k): a for k, a in v.items()} for h, v in self.alphas.items()},
            "multipliers": {
                str(h): {str(lv): self.multiplier(h, lv) for lv in self.levels} for h in self.scores
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConformalCalibrator:
        return cls(
            levels=tuple(int(x) for x in data.get("levels", DEFAULT_LEVELS)),
            window=int(data.get("window", 365)),
            min_scores=int(data.get("min_scores", 30)),
            adaptive=bool(data.get("adaptive", True)),
            gamma=float(data.get("gamma", 0.005)),
            scores={int(h): list(v) for h, v in dict(data.get("scores", {})).items()},
            alphas={
                int(h): {int(k): float(a) for k, a in v.items()}
                for h, v in dict(data.get("alphas", {})).items()
            },
        )


def normalised_score(actual: float, point: float, sigma: float, horizon: int) -> float:
    """``|actual - point| / (sigma sqrt(h))`` in log-return space."""
    return abs(float(actual) - float(point)) / (float(sigma) * math.sqrt(int(horizon)))
