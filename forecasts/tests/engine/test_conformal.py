from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from forecasts.engine.conformal import (
    ConformalCalibrator,
    conformal_quantile,
    ewma_volatility,
    normalised_score,
)


def test_conformal_quantile_uses_the_finite_sample_rank():
    scores = np.arange(1, 20, dtype=float)  # 1..19, n=19
    assert conformal_quantile(scores, 0.9) == 18.0  # ceil(20 * .9) = 18th smallest
    assert conformal_quantile(scores, 0.5) == 10.0
    assert conformal_quantile(scores[:5], 0.95) > 5.0  # rank 6 > n: widened, never too narrow


@pytest.mark.parametrize("adaptive", [False, True])
def test_coverage_on_synthetic_data_with_known_heteroscedastic_noise(adaptive):
    """Noise N(0, sigma_t) with sigma_t switching regimes; scores scaled by the true sigma."""
    rng = np.random.default_rng(3)
    n = 3000
    sigma = np.where((np.arange(n) // 250) % 2 == 0, 0.01, 0.05)
    y = sigma * rng.standard_normal(n)
    cal = ConformalCalibrator(window=500, adaptive=adaptive)
    hits = {lv: [] for lv in (80, 90, 95)}
    volatile = []
    for t in range(n):
        if t >= 500:  # score fresh data only after a burn-in
            bounds = cal.interval(0.0, sigma[t], 1)
            for lv, (lo, hi) in bounds.items():
                hits[lv].append(lo <= y[t] <= hi)
            volatile.append(sigma[t] > 0.02)
        cal.update(1, normalised_score(y[t], 0.0, sigma[t], 1))
    vol = np.asarray(volatile)
    for lv in (80, 90, 95):
        cover = float(np.mean(hits[lv]))
        assert abs(cover - lv / 100) < 0.025, (lv, cover)
    assert np.mean(np.asarray(hits[90])[vol]) >= 0.87


def test_intervals_scale_with_sigma_and_sqrt_horizon():
    cal = ConformalCalibrator(adaptive=False).extend(7, np.linspace(0, 2, 101))
    one = cal.interval(0.01, 0.02, 7)[90]
    two = cal.interval(0.01, 0.04, 7)[90]
    assert (two[1] - 0.01) == pytest.approx(2 * (one[1] - 0.01))
    q = cal.multiplier(7, 90)
    assert one[1] - 0.01 == pytest.approx(q * 0.02 * math.sqrt(7))


def test_gaussian_fallback_before_enough_scores_and_json_round_trip():
    cal = ConformalCalibrator()
    assert cal.multiplier(1, 95) == pytest.approx(1.959964, abs=1e-5)
    cal.extend(1, np.abs(np.random.default_rng(0).standard_normal(200)))
    again = ConformalCalibrator.from_dict(cal.to_dict())
    assert again.interval(0.0, 0.03, 1) == cal.interval(0.0, 0.03, 1)


def test_ewma_volatility_is_causal_and_positive():
    idx = pd.date_range("2024-01-01", periods=200, freq="D", tz="UTC")
    close = pd.Series(np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.03, 200))), idx)
    full = ewma_volatility(close)
    changed = close.copy()
    changed.iloc[150:] *= 3.0
    pd.testing.assert_series_equal(full.iloc[:150], ewma_volatility(changed).iloc[:150])
    assert (full > 0).all()
