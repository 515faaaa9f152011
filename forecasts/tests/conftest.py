"""Fixtures for the forecasts serving tests (the engine's own tests live in ``engine/``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from forecasts import response_cache
from markets.contracts import AssetData, CandleData
from mlserving import services as ml_services

from .engine.conftest import make_ohlcv

LAST_DAY = datetime(2025, 7, 5, tzinfo=UTC)

#: tiny, fast settings for every model type (1 epoch for neural nets)
FAST_PARAMS: dict[str, dict] = {
    "lightgbm": {"num_boost_round": 15, "num_threads": 1},
    "arima": {"max_train": 200},
    "ets": {"max_train": 200},
    "lstm": {"epochs": 1, "lookback": 8, "max_train": 200},
    "tcn": {"epochs": 1, "lookback": 8, "max_train": 200},
    "transformer": {"epochs": 1, "lookback": 8, "max_train": 200},
    "dlinear": {"epochs": 1, "lookback": 8, "max_train": 200},
    "ensemble": {
        "base_models": ["drift", "lightgbm"],
        "n_folds": 2,
        "fold_days": 20,
        "base_params": {"lightgbm": {"num_boost_round": 15, "num_threads": 1}},
    },
}


@pytest.fixture
def artifacts(tmp_path, settings) -> Path:
    root = tmp_path / "artifacts"
    root.mkdir()
    settings.MODEL_ARTIFACTS_DIR = root
    ml_services.reset_caches()
    response_cache.reset()
    yield root
    ml_services.reset_caches()
    response_cache.reset()


def synthetic_candles(*, days: int, start_price: float, seed: int) -> list[CandleData]:
    """A deterministic random walk with realistic OHLC shape, ending on LAST_DAY."""
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0005, 0.03, size=days)
    closes = start_price * np.exp(np.cumsum(returns))
    out = []
    prev = start_price
    for i, close in enumerate(closes):
        day = LAST_DAY - timedelta(days=days - 1 - i)
        high = max(prev, close) * (1 + abs(rng.normal(0, 0.01)))
        low = min(prev, close) * (1 - abs(rng.normal(0, 0.01)))
        vol = float(1000 * np.exp(rng.normal(0, 0.3)))
        out.append(
            CandleData(
                open_time=day, open=prev, high=high, low=low, close=close, volume=vol, source="test"
            )
        )
        prev = close
    return out


@pytest.fixture
def coins(db):
    """bitcoin (BTC) and ethereum (ETH) with 420 synthetic daily candles each."""
    from markets import selectors as market_selectors
    from markets import services as market_services

    market_services.assets_upsert(
        assets=[
            AssetData(
                slug="bitcoin", symbol="BTC", name="Bitcoin", rank=1, binance_symbol="BTCUSDT"
            ),
            AssetData(
                slug="ethereum", symbol="ETH", name="Ethereum", rank=2, binance_symbol="ETHUSDT"
            ),
        ]
    )
    btc = market_selectors.asset_get("bitcoin")
    eth = market_selectors.asset_get("ethereum")
    market_services.candles_upsert(
        asset=btc, interval="1d", candles=synthetic_candles(days=420, start_price=30000, seed=1)
    )
    market_services.candles_upsert(
        asset=eth, interval="1d", candles=synthetic_candles(days=420, start_price=2000, seed=2)
    )
    return {"BTC": btc, "ETH": eth}


def train_fast(symbols: str, models: str, *, horizons: int = 3):
    from forecasts import services

    return services.train_models(
        symbols=symbols,
        models=models,
        horizons=list(range(1, horizons + 1)),
        eval_days=20,
        refit_every=30,
        warmup_days=10,
        params=FAST_PARAMS,
    )


@pytest.fixture
def csv_dir(tmp_path):
    """Two coins' daily OHLCV CSVs (AAA, BBB; 300 days each) as the backtest reads them."""
    data = tmp_path / "data"
    data.mkdir()
    for i, sym in enumerate(("AAA", "BBB")):
        make_ohlcv(300, seed=10 + i).to_csv(
            data / f"{sym}.csv", index_label="date", date_format="%Y-%m-%d"
        )
    return data
