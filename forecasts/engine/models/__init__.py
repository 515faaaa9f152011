"""The model types, each registered in ``registry.MODEL_TYPES`` (get, save, load by name)."""

from __future__ import annotations

from ..forecaster import Forecaster
from .baselines import DriftForecaster, NaiveForecaster
from .ensemble import EnsembleForecaster
from .gbm import LightGBMForecaster
from .neural import (
    DLinearForecaster,
    KerasForecaster,
    LSTMForecaster,
    TCNForecaster,
    TransformerForecaster,
)
from .registry import MODEL_TYPES, get_forecaster, load_forecaster, save_forecaster
from .statistical import ArimaForecaster, EtsForecaster

MODEL_TYPES.update(
    (cls.name, cls)
    for cls in (
        NaiveForecaster,
        DriftForecaster,
        ArimaForecaster,
        EtsForecaster,
        LightGBMForecaster,
        LSTMForecaster,
        TCNForecaster,
        TransformerForecaster,
        DLinearForecaster,
        EnsembleForecaster,
    )
)
#: models that need TensorFlow to *train* (they serve through onnxruntime)
NEURAL_MODELS = frozenset(n for n, c in MODEL_TYPES.items() if issubclass(c, KerasForecaster))

__all__ = [
    "MODEL_TYPES",
    "NEURAL_MODELS",
    "Forecaster",
    "get_forecaster",
    "load_forecaster",
    "save_forecaster",
]
