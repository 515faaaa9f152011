"""Forecast accuracy, interval and trading metrics (plain numpy/scipy, hand-checked in tests).

Point metrics are on prices. ``rel_mae`` = MAE(model) / MAE(naive) on the same windows;
``mase`` scales the MAE by the in-sample MAE of the h-step naive forecast on the training data.
A ``rel_mae`` below :data:`LEAKAGE_REL_MAE` is flagged as a probable leak (published skill on
daily crypto closes caps near 0.986).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist
from typing import Any

import numpy as np

LEAKAGE_REL_MAE = 0.95


def _a(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def mae(actual: Any, pred: Any) -> float:
    return float(np.mean(np.abs(_a(actual) - _a(pred))))


def rmse(actual: Any, pred: Any) -> float:
    return float(np.sqrt(np.mean((_a(actual) - _a(pred)) ** 2)))


def mape(actual: Any, pred: Any) -> float:
    """Mean absolute percentage error, in percent."""
    a = _a(actual)
    return float(100.0 * np.mean(np.abs((a - _a(pred)) / a)))


def smape(actual: Any, pred: Any) -> float:
    """Symmetric MAPE in percent: ``200 |a - p| / (|a| + |p|)`` averaged."""
    a, p = _a(actual), _a(pred)
    den = np.abs(a) + np.abs(p)
    return float(
        np.mean(np.where(den == 0, 0.0, 200.0 * np.abs(a - p) / np.where(den == 0, 1, den)))
    )


def naive_scale(train_close: Any, horizon: int) -> float:
    """In-sample MAE of the h-step naive forecast: mean |y_t - y_{t-h}| over the training data."""
    y = _a(train_close)
    if len(y) <= horizon:
        return float("nan")
    return float(np.mean(np.abs(y[horizon:] - y[:-horizon])))


def mase(actual: Any, pred: Any, scale: float) -> float:
    return float(mae(actual, pred) / scale) if scale and np.isfinite(scale) else float("nan")


def rel_mae(actual: Any, pred: Any, naive_pred: Any) -> float:
    base = mae(actual, naive_pred)
    return float(mae(actual, pred) / base) if base > 0 else float("nan")


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion."""
    if n == 0:
        return (float("nan"), float("nan"))
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    p = successes / n
    den = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return (float(centre - half), float(centre + half))


def directional_accuracy(
    actual_ret: Any, pred_ret: Any, train_up_share: float | None = None
) -> dict[str, float]:
    """Share of forecasts whose sign matches the realised move, with a 95% Wilson interval.

    A prediction of exactly 0 (naive) counts as "up". The baseline always predicts the majority
    class of the *training* period (``train_up_share``; if omitted, of the test windows, which
    flatters the baseline) and is scored on the same windows.
    """
    a, p = _a(actual_ret), _a(pred_ret)
    n = len(a)
    up = a > 0
    hits = int(np.sum((p >= 0) == up))
    lo, hi = wilson_interval(hits, n)
    share = float(np.mean(up)) if train_up_share is None else float(train_up_share)
    base_pred_up = share >= 0.5
    base = float(np.mean(up == base_pred_up)) if n else float("nan")
    return {
        "directional_accuracy": hits / n if n else float("nan"),
        "da_ci_low": lo,
        "da_ci_high": hi,
        "da_baseline": base,
        "da_beats_baseline": bool(n and lo > base),
    }


def coverage(actual: Any, lower: Any, upper: Any) -> float:
    a = _a(actual)
    return float(np.mean((a >= _a(lower)) & (a <= _a(upper))))


def mean_width_pct(lower: Any, upper: Any, reference: Any) -> float:
    """Mean interval width as a percentage of ``reference`` (the origin close)."""
    return float(100.0 * np.mean((_a(upper) - _a(lower)) / _a(reference)))


def pinball_loss(actual: Any, quantile_pred: Any, q: float) -> float:
    """Mean pinball (quantile) loss of predictions of the ``q`` quantile."""
    d = _a(actual) - _a(quantile_pred)
    return float(np.mean(np.maximum(q * d, (q - 1.0) * d)))


def interval_pinball(actual: Any, lower: Any, upper: Any, level: float) -> float:
    """Average pinball loss of the interval's two quantiles (``alpha/2`` and ``1-alpha/2``)."""
    alpha = 1.0 - level
    return 0.5 * (
        pinball_loss(actual, lower, alpha / 2.0) + pinball_loss(actual, upper, 1.0 - alpha / 2.0)
    )


def winkler_score(actual: Any, lower: Any, upper: Any, level: float) -> float:
    """Mean Winkler score: width + (2/alpha) x the distance outside the interval."""
    a, lo, hi = _a(actual), _a(lower), _a(upper)
    alpha = 1.0 - level
    score = (hi - lo) + (2.0 / alpha) * (np.maximum(lo - a, 0) + np.maximum(a - hi, 0))
    return float(np.mean(score))


def diebold_mariano(
    err_model: Any, err_base: Any, horizon: int = 1, power: int = 1
) -> dict[str, float]:
    """Diebold-Mariano test of equal accuracy with the Harvey-Leybourne-Newbold correction.

    Loss ``|e|^power``; ``d = L(model) - L(base)``; long-run variance with autocovariances up
    to lag ``h-1``; statistic scaled by ``sqrt((n + 1 - 2h + h(h-1)/n) / n)``, compared to
    Student t with ``n-1`` d.o.f. ``p_value`` is two-sided; ``p_better`` is one-sided
    (H1: the model's loss is lower).
    """
    d = np.abs(_a(err_model)) ** power - np.abs(_a(err_base)) ** power
    n = len(d)
    h = int(horizon)
    nan = {"dm_stat": float("nan"), "p_value": float("nan"), "p_better": float("nan")}
    if n < 3:
        return nan
    dbar = float(np.mean(d))
    dc = d - dbar
    gamma = [float(np.dot(dc[k:], dc[: n - k]) / n) for k in range(min(h, n))]
    var = (gamma[0] + 2.0 * sum(gamma[1:])) / n
    if var <= 0:
        if np.allclose(d, 0):
            return {"dm_stat": 0.0, "p_value": 1.0, "p_better": 0.5}
        var = gamma[0] / n  # the HAC estimate can be negative for small n: fall back
        if var <= 0:
            return nan
    dm = dbar / math.sqrt(var)
    correction = math.sqrt(max((n + 1 - 2 * h + h * (h - 1) / n) / n, 1e-12))
    stat = dm * correction
    # deferred: scipy.stats costs ~2 s at import, and every process imports this module (the
    # forecasts facade); only a backtest's significance test needs Student's t
    from scipy import stats

    return {
        "dm_stat": float(stat),
        "p_value": float(2.0 * stats.t.sf(abs(stat), df=n - 1)),
        "p_better": float(stats.t.cdf(stat, df=n - 1)),
    }


def long_flat_strategy(
    origin_close: Any,
    actual: Any,
    pred_ret: Any,
    horizon: int,
    cost_bps: float = 10.0,
) -> dict[str, float]:
    """Long when the forecast return is > 0, flat otherwise, on non-overlapping h-day holds.

    Uses every ``h``-th forecast (so holds do not overlap); each change of position costs
    ``cost_bps`` basis points. Sharpe is annualised with ``sqrt(365 / h)``; max drawdown is of
    the compounded equity curve (a negative fraction). Buy-and-hold on the same periods is
    returned beside it.
    """
    c0 = _a(origin_close)[::horizon]
    c1 = _a(actual)[::horizon]
    pos = (_a(pred_ret)[::horizon] > 0).astype(float)
    if len(c0) < 2:
        return {"sharpe": float("nan"), "max_drawdown": float("nan"), "total_return": float("nan")}
    ret = c1 / c0 - 1.0
    trades = np.abs(np.diff(np.concatenate([[0.0], pos])))
    strat = pos * ret - trades * cost_bps / 1e4
    return {
        "sharpe": _sharpe(strat, horizon),
        "max_drawdown": max_drawdown(strat),
        "total_return": float(np.prod(1.0 + strat) - 1.0),
        "buy_hold_sharpe": _sharpe(ret, horizon),
        "buy_hold_return": float(np.prod(1.0 + ret) - 1.0),
        "exposure": float(np.mean(pos)),
    }


def _sharpe(returns: np.ndarray, horizon: int) -> float:
    sd = float(np.std(returns, ddof=1)) if len(returns) > 1 else 0.0
    if sd == 0:
        return 0.0
    return float(np.mean(returns) / sd * math.sqrt(365.0 / horizon))


def max_drawdown(returns: Sequence[float] | np.ndarray) -> float:
    """Largest peak-to-trough fall of the compounded equity curve (``-0.25`` = -25%)."""
    equity = np.cumprod(1.0 + _a(returns))
    equity = np.concatenate([[1.0], equity])
    peak = np.maximum.accumulate(equity)
    return float(np.min(equity / peak - 1.0))
