"""Writes of `forecasts` (other apps import these names from here).

- ``train_models`` — fit, evaluate walk-forward, calibrate, register, promote when better
- ``build_manifest`` — rebuild/verify the model manifest from artifact folders
- ``generate_forecasts`` — issue immutable forecasts from verified artifacts (never trains)
- ``fill_actuals`` — fill actual/error on forecasts whose target has passed
- ``promote`` / ``rollback`` — move the ``champion`` alias
"""

from forecasts.services.archive import ImmutableForecastError, fill_actuals
from forecasts.services.common import (
    LEVELS,
    MODEL_TYPES,
    REQUESTABLE_MODELS,
    ForecastInputError,
    default_models,
)
from forecasts.services.generation import GenerationReport, generate_forecasts
from forecasts.services.registry import build_manifest, promote, rollback
from forecasts.services.training import TrainReport, train_models

__all__ = [
    "LEVELS",
    "MODEL_TYPES",
    "REQUESTABLE_MODELS",
    "ForecastInputError",
    "GenerationReport",
    "ImmutableForecastError",
    "TrainReport",
    "build_manifest",
    "default_models",
    "fill_actuals",
    "generate_forecasts",
    "promote",
    "rollback",
    "train_models",
]
