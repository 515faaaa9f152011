"""Tiny deterministic synthetic OHLCV series for the engine tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_ohlcv(
    n: int = 420,
    seed: int = 0,
    drift: float = 0.0,
    vol: float = 0.02,
    start: str = "2022-01-01",
    vol_path: np.ndarray | None = None,
) -> pd.DataFrame:
    """A geometric random walk with consistent OHLC candles (UTC daily index)."""
    rng = np.random.default_rng(seed)
    sig = np.full(n, vol) if vol_path is None else np.asarray(vol_path, dtype=float)
    r = drift + sig * rng.standard_normal(n)
    close = 100.0 * np.exp(np.cumsum(r))
    open_ = np.concatenate([[100.0], close[:-1]]) * np.exp(0.002 * rng.standard_normal(n))
    spread = np.abs(rng.standard_normal(n)) * sig * 0.5
    high = np.maximum(open_, close) * np.exp(spread)
    low = np.minimum(open_, close) * np.exp(-spread)
    volume = 1000.0 * np.exp(0.3 * rng.standard_normal(n))
    idx = pd.date_range(start, periods=n, freq="D", tz="UTC")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx
    )


@pytest.fixture
def ohlcv() -> pd.DataFrame:
    return make_ohlcv()


#: tiny, fast settings per model type (1 epoch for neural nets)
FAST: dict[str, dict] = {
    "naive": {},
    "drift": {},
    "arima": {"max_train": 200},
    "ets": {"max_train": 200},
    "lightgbm": {"num_boost_round": 20, "num_threads": 1},
    "lstm": {"epochs": 1, "lookback": 8, "max_train": 150},
    "tcn": {"epochs": 1, "lookback": 8, "max_train": 150},
    "transformer": {"epochs": 1, "lookback": 8, "max_train": 150},
    "dlinear": {"epochs": 1, "lookback": 8, "max_train": 150},
    "ensemble": {
        "base_models": ["drift", "ets", "lightgbm"],
        "n_folds": 2,
        "fold_days": 20,
        "base_params": {
            "lightgbm": {"num_boost_round": 20, "num_threads": 1},
            "ets": {"max_train": 200},
        },
    },
}
