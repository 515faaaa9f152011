from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasts.engine import EngineError, build_features, feature_names
from forecasts.engine.features import WARMUP_ROWS

from .conftest import make_ohlcv


def test_builds_more_than_fifty_named_features(ohlcv):
    feats = build_features(ohlcv)
    assert feats.shape == (len(ohlcv), len(feature_names()))
    assert feats.shape[1] >= 50
    for name in (
        "ret_1",
        "vol_30",
        "parkinson_14",
        "garman_klass_30",
        "rsi_14",
        "macd",
        "bb_position",
        "bb_width",
        "atr_14",
        "volume_z_30",
        "obv_slope_14",
        "dow_sin",
        "month_cos",
    ):
        assert name in feats.columns
    assert not feats.iloc[WARMUP_ROWS:].isna().any().any()


@pytest.mark.parametrize("cut", [210, 300, 419])
def test_features_at_t_do_not_change_when_the_future_changes(ohlcv, cut):
    """Leakage check: perturb every row after t; rows up to t must be bit-identical."""
    base = build_features(ohlcv)
    future = ohlcv.copy()
    rng = np.random.default_rng(1)
    tail = future.index > future.index[cut]
    future.loc[tail, ["open", "high", "low", "close"]] *= rng.uniform(0.5, 2.0, (tail.sum(), 1))
    future.loc[tail, "high"] *= 1.1
    future.loc[tail, "volume"] *= 50.0
    changed = build_features(future)
    pd.testing.assert_frame_equal(base.iloc[: cut + 1], changed.iloc[: cut + 1])
    if cut < len(ohlcv) - 1:  # and the perturbation really did something afterwards
        assert not base.iloc[cut + 1 :].equals(changed.iloc[cut + 1 :])


def test_truncated_history_gives_the_same_last_row(ohlcv):
    full = build_features(ohlcv)
    part = build_features(ohlcv.iloc[:350])
    pd.testing.assert_series_equal(full.iloc[349], part.iloc[-1])


def test_optional_sentiment_adds_past_only_columns(ohlcv):
    senti = pd.Series(np.linspace(-1, 1, len(ohlcv)), index=ohlcv.index)
    feats = build_features(ohlcv, sentiment=senti)
    assert {"sentiment", "sentiment_ma7"} <= set(feats.columns)
    assert feats["sentiment_ma7"].iloc[10] == pytest.approx(senti.iloc[4:11].mean())
    assert "sentiment" not in build_features(ohlcv).columns


def test_missing_columns_are_a_readable_error():
    frame = make_ohlcv(50).drop(columns=["volume"])
    with pytest.raises(EngineError, match="volume"):
        build_features(frame)
