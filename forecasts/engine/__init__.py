"""Forecasting engine: pure pandas/numpy code (no Django imports), used by commands, Celery
tasks, mlserving and benchmarks. See ``docs/forecasting-engine.md``.

Public interface::

    from forecasts.engine import (
        get_forecaster, load_forecaster, save_forecaster, MODEL_TYPES, Forecaster, ArtifactSpec,
        build_features, returns_to_prices, EngineError,
    )
    from forecasts.engine.backtest import BacktestConfig, run_backtest
    from forecasts.engine.csv_frames import read_ohlcv_csv, load_csv_dir  # daily CSV -> frame
"""

import os

# LightGBM/OpenMP threads busy-wait by default; on a shared 2-core machine that turns a 1 s fit
# into 10+ s as soon as other processes compete. Passive waiting costs nothing when idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .features import build_features, feature_names
from .forecaster import (
    ArtifactSpec,
    EngineError,
    Forecaster,
    log_return_targets,
    returns_to_prices,
    validate_ohlcv,
)
from .models import (
    MODEL_TYPES,
    NEURAL_MODELS,
    get_forecaster,
    load_forecaster,
    save_forecaster,
)

__all__ = [
    "MODEL_TYPES",
    "NEURAL_MODELS",
    "ArtifactSpec",
    "EngineError",
    "Forecaster",
    "build_features",
    "feature_names",
    "get_forecaster",
    "load_forecaster",
    "log_return_targets",
    "returns_to_prices",
    "save_forecaster",
    "validate_ohlcv",
]
