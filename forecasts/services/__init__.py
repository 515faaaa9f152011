"""Writes of `forecasts` (other apps import these names from here).

- ``train_models`` — fit, evaluate walk-forward, calibrate, register, promote when better
- ``build_manifest`` — rebuild/verify the model manifest from artifact folders
- ``generate_forecasts`` — issue immutable forecasts from verified artifacts (never trains)
- ``fill_actuals`` — fill actual/error on forecasts whose target has passed
- ``promote`` / ``rollback`` — move the ``champion`` alias
- ``training_run_start`` / ``issuing_run_start`` / ``execute_task`` — the same, fanned out
  over Celery workers: one task per (coin, model type), see ``fanout``
- ``tracked_assets`` / ``tracked_assets_register`` — which coins get forecasts
- ``forecasts_listener_register`` — ``fn(asset_ids)`` on commit after each issue (alerts)
- ``backtest_request`` / ``backtest_run`` / ``backtest_merge`` / ``backtest_enqueue`` — the
  walk-forward backtest vs naive and its report files (``manage.py backtest``, the
  ``forecasts.backtest`` task), see ``backtesting``
"""

from forecasts.catalogue import (
    LEVELS,
    MODEL_TYPES,
    REQUESTABLE_MODELS,
    ForecastInputError,
    default_models,
)
from forecasts.services.archive import ImmutableForecastError, fill_actuals
from forecasts.services.backtesting import (
    BacktestOutcome,
    BacktestRequest,
    backtest_enqueue,
    backtest_merge,
    backtest_request,
    backtest_run,
)
from forecasts.services.fanout import (
    TaskBusy,
    execute_task,
    issuing_run_start,
    reap_lost_tasks,
    tracked_assets,
    tracked_assets_register,
    training_run_start,
)
from forecasts.services.generation import (
    GenerationReport,
    forecasts_listener_register,
    generate_forecasts,
)
from forecasts.services.registry import build_manifest, promote, rollback
from forecasts.services.training import TrainReport, train_models

__all__ = [
    "LEVELS",
    "MODEL_TYPES",
    "REQUESTABLE_MODELS",
    "BacktestOutcome",
    "BacktestRequest",
    "ForecastInputError",
    "GenerationReport",
    "ImmutableForecastError",
    "TaskBusy",
    "TrainReport",
    "backtest_enqueue",
    "backtest_merge",
    "backtest_request",
    "backtest_run",
    "build_manifest",
    "default_models",
    "execute_task",
    "fill_actuals",
    "forecasts_listener_register",
    "generate_forecasts",
    "issuing_run_start",
    "promote",
    "reap_lost_tasks",
    "rollback",
    "tracked_assets",
    "tracked_assets_register",
    "train_models",
    "training_run_start",
]
