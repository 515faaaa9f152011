"""Metrics against values computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecasts.engine import metrics as M

ACTUAL = [100.0, 110.0, 90.0, 105.0]
PRED = [102.0, 105.0, 95.0, 105.0]  # errors -2, 5, -5, 0


def test_point_errors_match_hand_computation():
    assert M.mae(ACTUAL, PRED) == pytest.approx(3.0)  # (2+5+5+0)/4
    assert M.rmse(ACTUAL, PRED) == pytest.approx(math.sqrt(54 / 4))  # (4+25+25)/4
    assert M.mape(ACTUAL, PRED) == pytest.approx(100 * (2 / 100 + 5 / 110 + 5 / 90) / 4)
    expected_smape = 100 * (2 * 2 / 202 + 2 * 5 / 215 + 2 * 5 / 185 + 0) / 4
    assert M.smape(ACTUAL, PRED) == pytest.approx(expected_smape)


def test_mase_and_rel_mae():
    # in-sample 1-step naive errors of [10, 12, 11, 15]: 2, 1, 4 -> scale 7/3
    scale = M.naive_scale([10, 12, 11, 15], 1)
    assert scale == pytest.approx(7 / 3)
    assert M.naive_scale([10, 12, 11, 15], 2) == pytest.approx((1 + 3) / 2)
    assert M.mase(ACTUAL, PRED, scale) == pytest.approx(3.0 / (7 / 3))
    naive = [100.0, 100.0, 100.0, 100.0]  # errors 0, 10, 10, 5 -> MAE 6.25
    assert M.rel_mae(ACTUAL, PRED, naive) == pytest.approx(3.0 / 6.25)


def test_wilson_interval_hand_value():
    lo, hi = M.wilson_interval(60, 100)
    # p=0.6, z=1.959964: centre=(0.6+z^2/200)/(1+z^2/100), half=z*sqrt(.0024+z^2/40000)/(1+z^2/100)
    z = 1.959963984540054
    den = 1 + z * z / 100
    centre = (0.6 + z * z / 200) / den
    half = z * math.sqrt(0.6 * 0.4 / 100 + z * z / 40000) / den
    assert (lo, hi) == pytest.approx((centre - half, centre + half))
    assert (lo, hi) == pytest.approx((0.5020, 0.6906), abs=1e-4)


def test_directional_accuracy_against_training_majority():
    actual = [0.01, -0.02, 0.03, 0.01, -0.01]
    pred = [0.002, 0.001, 0.004, -0.001, -0.003]  # hits: y n y n y -> 3/5
    out = M.directional_accuracy(actual, pred, train_up_share=0.55)
    assert out["directional_accuracy"] == pytest.approx(0.6)
    assert out["da_baseline"] == pytest.approx(0.6)  # always "up": 3 of 5 are up
    assert out["da_ci_low"] < 0.6 < out["da_ci_high"]
    assert out["da_beats_baseline"] is False


def test_interval_metrics_hand_values():
    y = np.array([10.0, 12.0, 7.0])
    lo = np.array([9.0, 9.0, 8.0])
    hi = np.array([11.0, 11.0, 10.0])
    assert M.coverage(y, lo, hi) == pytest.approx(1 / 3)
    # Winkler at 80% (alpha .2): widths 2,2,2; penalties 0, (2/.2)*1=10, (2/.2)*1=10
    assert M.winkler_score(y, lo, hi, 0.8) == pytest.approx((2 + 12 + 12) / 3)
    # pinball q=0.9 of upper: d = y-hi = -1, 1, -3 -> max(.9d, -.1d) = .1, .9, .3
    assert M.pinball_loss(y, hi, 0.9) == pytest.approx((0.1 + 0.9 + 0.3) / 3)
    assert M.mean_width_pct(lo, hi, [100.0, 100.0, 100.0]) == pytest.approx(2.0)


def test_diebold_mariano_hand_value_h1():
    e_model = np.array([1.0, 2.0, 1.0, 2.0, 1.0])
    e_base = np.array([2.0, 2.0, 2.0, 3.0, 2.0])
    # d = -1, 0, -1, -1, -1; mean -0.8; gamma0 = mean((d+.8)^2) = (4*.04 + .64)/5 = 0.16
    # DM = -0.8 / sqrt(0.16/5) = -4.4721; HLN factor sqrt((5+1-2+0)/5) = sqrt(0.8)
    out = M.diebold_mariano(e_model, e_base, horizon=1)
    expected = -0.8 / math.sqrt(0.16 / 5) * math.sqrt(0.8)
    assert out["dm_stat"] == pytest.approx(expected)
    from scipy import stats

    assert out["p_better"] == pytest.approx(stats.t.cdf(expected, df=4))
    assert out["p_value"] == pytest.approx(2 * stats.t.sf(abs(expected), df=4))


def test_diebold_mariano_equal_errors_is_not_significant():
    e = np.array([1.0, -2.0, 0.5, 3.0])
    assert M.diebold_mariano(e, e, horizon=1)["p_value"] == pytest.approx(1.0)


def test_long_flat_strategy_and_drawdown_hand_values():
    c0 = [100.0, 110.0, 99.0, 99.0]
    c1 = [110.0, 99.0, 99.0, 108.9]  # returns +10%, -10%, 0%, +10%
    pred = [0.01, 0.01, -0.01, 0.02]  # long, long, flat, long
    out = M.long_flat_strategy(c0, c1, pred, horizon=1, cost_bps=0.0)
    strat = np.array([0.10, -0.10, 0.0, 0.10])
    assert out["total_return"] == pytest.approx(1.1 * 0.9 * 1.0 * 1.1 - 1)
    assert out["sharpe"] == pytest.approx(strat.mean() / strat.std(ddof=1) * math.sqrt(365))
    assert out["max_drawdown"] == pytest.approx(-0.10)
    with_costs = M.long_flat_strategy(c0, c1, pred, horizon=1, cost_bps=10.0)
    # three position changes (enter, exit, enter) cost 10 bps each
    assert with_costs["total_return"] == pytest.approx(
        (1.1 - 0.001) * (0.9) * (1 - 0.001) * (1.1 - 0.001) - 1
    )
    assert M.max_drawdown([0.5, -0.5, 0.2]) == pytest.approx(-0.5)
