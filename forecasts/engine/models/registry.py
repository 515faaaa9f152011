"""The model registry: ``MODEL_TYPES`` (name -> class) and the functions that build, save and
load forecasters by name.

``MODEL_TYPES`` is filled by :mod:`forecasts.engine.models` once it has imported every model
module; it is a module of its own so that a model made of other models (the ensemble) can
use it without importing the package that imports the ensemble.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..forecaster import ArtifactSpec, EngineError, Forecaster

#: every model type, by the name used in the API, the manifest and the CLI
MODEL_TYPES: dict[str, type[Forecaster]] = {}


def get_forecaster(name: str, **params: Any) -> Forecaster:
    """A new, unfitted forecaster of type ``name`` (``auto`` is not a model: see backtest)."""
    try:
        cls = MODEL_TYPES[name]
    except KeyError:
        known = ", ".join(MODEL_TYPES)
        raise EngineError(f"unknown model {name!r}; known: {known}") from None
    return cls(**params)


def save_forecaster(model: Forecaster, directory: Path) -> ArtifactSpec:
    """``model.save(directory)`` and also write the spec as ``directory/spec.json``."""
    spec = model.save(Path(directory))
    spec.write(Path(directory))
    return spec


def load_forecaster(directory: Path, spec: ArtifactSpec | None = None) -> Forecaster:
    """Rebuild a fitted forecaster from ``directory`` (spec read from ``spec.json`` if omitted).

    Verifying the files' hashes is the caller's job (mlserving does it before calling this).
    """
    if spec is None:
        spec = ArtifactSpec.read(Path(directory))
    try:
        cls = MODEL_TYPES[spec.model_type]
    except KeyError:
        raise EngineError(f"artifact has unknown model type {spec.model_type!r}") from None
    return cls.load(Path(directory), spec)
