"""Reads of `mlserving`: the registered versions, as contracts (``mlserving.contracts``).

Each call reads the manifest through its cache (one ``stat`` when nothing changed; with an
object store, one ETag check per poll interval), so a rebuilt or promoted manifest is seen at
once. Nothing here loads or verifies an artifact's files: that is ``services.load_first``.
"""

from __future__ import annotations

from datetime import datetime

from mlserving import loading
from mlserving import manifest as mf
from mlserving.contracts import ModelVersion, RegisteredModel


def manifest_signature() -> str:
    """Changes with every rewrite of the manifest (a cache-key part; one ``stat``)."""
    return mf.signature()


def manifest_updated_at() -> str | None:
    return mf.read_manifest().get("updated_at")


def max_age_days() -> float:
    """``MODEL_MAX_AGE_DAYS``: older versions are refused (0 = no limit)."""
    return loading.max_age_days()


def registered_keys() -> list[str]:
    """Every key with anything registered (models or preprocessing files), sorted."""
    return sorted(mf.read_manifest().get("keys", {}))


def registered_models(*, key: str | None = None) -> list[RegisteredModel]:
    """Every model (of ``key``, or of every key), sorted by key and model."""
    keys = mf.read_manifest().get("keys", {})
    wanted = [key] if key is not None else sorted(keys)
    return [
        mf.registered_model(k, model, node)
        for k in wanted
        for model, node in sorted((keys.get(k) or {}).get("models", {}).items())
    ]


def registered_model(*, key: str, model: str) -> RegisteredModel | None:
    node = (mf.read_manifest().get("keys", {}).get(key) or {}).get("models", {}).get(model)
    return mf.registered_model(key, model, node) if node else None


def champion(*, key: str, model: str) -> ModelVersion | None:
    """The version ``key/model@champion`` points at, or None."""
    node = (mf.read_manifest().get("keys", {}).get(key) or {}).get("models", {}).get(model)
    if not node:
        return None
    version = (node.get("aliases") or {}).get("champion")
    if not version or version not in node.get("versions", {}):
        return None
    return mf.model_version(key, model, version, node)


def version_get(*, key: str, model: str, version: str) -> ModelVersion | None:
    """``key/model/version`` read fresh from the manifest (what a re-run of an interrupted
    job asks before redoing the work), or None when it is not registered."""
    data = mf.read_manifest(fresh=True)
    node = (data.get("keys", {}).get(key) or {}).get("models", {}).get(model) or {}
    if version not in (node.get("versions") or {}):
        return None
    return mf.model_version(key, model, version, node)


def version_resolve(*, key: str, ref: str, now: datetime | None = None) -> ModelVersion:
    """The version ``ref`` (``name@alias`` or ``name@version``) names for ``key``, if it may
    still be served: raises ``ArtifactNotFound`` (not in the manifest), ``ArtifactExpired``
    (older than ``MODEL_MAX_AGE_DAYS``) or ``ArtifactIntegrityError`` (a path outside the
    artifacts root). Its files are not hashed here (``services.load_first`` does that)."""
    artifact = loading.resolve(ref, key=key)
    loading.check_age(artifact, now=now)
    return artifact.info
