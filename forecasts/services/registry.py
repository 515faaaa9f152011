"""Model registry operations on behalf of forecasts (thin wrappers over mlserving)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from forecasts import response_cache
from forecasts.catalogue import MODEL_TYPES, ForecastInputError
from mlserving import services as ml
from mlserving.contracts import PromotionResult


def _check(key: str, model: str) -> tuple[str, str]:
    if model not in MODEL_TYPES:
        raise ForecastInputError(f"unknown model {model!r}")
    return key.upper(), model


def promote(
    *, symbol: str, model: str, version: str | None = None, force: bool = False
) -> PromotionResult:
    key, model = _check(symbol, model)
    try:
        result = ml.promote(key=key, model=model, version=version, force=force)
    except ml.RegistryError as exc:
        raise ForecastInputError(str(exc)) from exc
    transaction.on_commit(response_cache.bump_generation)
    return result


def rollback(*, symbol: str, model: str) -> PromotionResult:
    key, model = _check(symbol, model)
    try:
        result = ml.rollback(key=key, model=model)
    except ml.RegistryError as exc:
        raise ForecastInputError(str(exc)) from exc
    transaction.on_commit(response_cache.bump_generation)
    return result


def build_manifest(*, progress: Any = None) -> ml.BuildReport:
    """Rebuild/verify the manifest from the artifact folders (tampered versions left out)."""
    report = ml.build_manifest(progress=progress)
    transaction.on_commit(response_cache.bump_generation)
    return report
