"""What `mlserving` hands to other apps: frozen views of the manifest and what was served.

Other apps import ``mlserving.contracts``, ``mlserving.selectors`` and ``mlserving.services``
only; the manifest's dict shape, the loader and the artifact store stay private to mlserving.
Nothing here knows coins: a *key* is the caller's namespace, a *model* a name inside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

T = TypeVar("T")

#: the metric every version carries for the promotion rule (lower is better)
SKILL_KEY = "skill_score"


# --- refusals ------------------------------------------------------------------------------------


class ArtifactError(Exception):
    """Base: this artifact must not be served. ``reason`` is a short label for humans."""

    reason = "unavailable"

    def __init__(self, message: str, *, ref: str = "") -> None:
        super().__init__(message)
        self.ref = ref


class ArtifactNotFound(ArtifactError):
    reason = "missing"


class ArtifactIntegrityError(ArtifactError):
    reason = "sha256 mismatch"


class ArtifactExpired(ArtifactError):
    reason = "expired"


class ArtifactLoadError(ArtifactError):
    reason = "load failed"


# --- registered versions -------------------------------------------------------------------------


def parse_timestamp(raw: Any) -> datetime | None:
    """An ISO 8601 time from the manifest; a naive one is UTC, an empty one None."""
    if not raw:
        return None
    value = datetime.fromisoformat(str(raw))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def finite_or_none(raw: Any) -> float | None:
    """``raw`` as a finite float, else None (what an unscored version's skill is)."""
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ModelVersion:
    """One registered version of ``key/model``, as the manifest records it (read-only).

    ``meta`` is the whole recorded entry: the descriptive fields the caller registered
    (``spec``, ``feature_names``, ``scalers``, ``horizons``...) plus the hashes mlserving
    computed. ``created`` is the registration time as recorded (ISO 8601).
    """

    key: str
    model: str
    version: str
    aliases: tuple[str, ...]
    format: str | None
    path: str  # the version's folder, relative to the artifacts root
    sha256: str
    size: int | None
    created: str | None
    metrics: Mapping[str, Any]
    training_window: Mapping[str, Any]
    meta: Mapping[str, Any] = field(repr=False)

    @property
    def ref(self) -> str:
        return f"{self.key}:{self.model}@{self.version}"

    @property
    def created_at(self) -> datetime | None:
        return parse_timestamp(self.created)

    def age_days(self, *, now: datetime | None = None) -> float | None:
        created = self.created_at
        if created is None:
            return None
        return ((now or datetime.now(UTC)) - created).total_seconds() / 86400

    @property
    def skill_score(self) -> float | None:
        """The promotion metric (lower is better), None when unscored."""
        return finite_or_none(self.metrics.get(SKILL_KEY))

    @property
    def per_horizon(self) -> dict[int, dict[str, Any]]:
        """The walk-forward figures per horizon the caller recorded (e.g. relMAE vs naive)."""
        per_h = self.metrics.get("per_horizon") or {}
        return {int(h): dict(v) for h, v in per_h.items()}


@dataclass(frozen=True)
class RegisteredModel:
    """One model of one key: where its aliases point and its versions (oldest first)."""

    key: str
    model: str
    aliases: Mapping[str, str]
    versions: tuple[ModelVersion, ...]

    def aliased(self, alias: str) -> ModelVersion | None:
        target = self.aliases.get(alias)
        return next((v for v in self.versions if v.version == target), None)

    @property
    def champion(self) -> ModelVersion | None:
        return self.aliased("champion")


# --- what was served -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Servable(Generic[T]):
    """A loaded model whose files matched the manifest's hashes, and its version."""

    obj: T
    version: ModelVersion


@dataclass(frozen=True)
class Served(Generic[T]):
    """What ``services.load_first`` served: the first servable ref, and why not the ones
    before it (``failures``: ``(ref, reason)``)."""

    servable: Servable[T] | None
    requested: str
    served: str | None
    failures: tuple[tuple[str, str], ...] = ()

    @property
    def fallback_label(self) -> str:
        """Empty when the first choice was served; else e.g.
        ``"lightgbm@champion refused (sha256 mismatch); served naive@champion"``."""
        if not self.failures:
            return ""
        refused = "; ".join(f"{ref} refused ({reason})" for ref, reason in self.failures)
        return f"{refused}; served {self.served or 'nothing'}"


# --- registry writes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PromotionResult:
    key: str
    model: str
    promoted: bool
    champion: str | None
    reason: str
    challenger_skill: float | None = None
    champion_skill: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
