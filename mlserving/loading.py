"""Resolve ``name@alias`` / ``name@version``, verify, and load artifacts safely.

Order is fixed: resolve in the manifest -> refuse expired models -> check every file's
sha256 against the manifest -> only then deserialise (with the caller's loader, which may
use :func:`load_skops` for skops files). A refusal is loud (structlog error + exception);
callers that can serve something else use :func:`load_first`, which walks their fallback
list and labels what it served instead.

Private to mlserving: other apps go through ``mlserving.services.load_first`` and
``mlserving.selectors`` and are handed ``mlserving.contracts``.

Deserialised objects are cached per (folder, version sha256); a cache hit re-checks the
files' (inode, size, mtime) and hashes again when anything moved.

With an object store (:mod:`mlserving.store`) the version's files are first downloaded into
the local working copy (missing ones only), then verified exactly as above; a mismatch is
downloaded once more (a stale local copy) and refused if it still does not match.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import structlog
from django.conf import settings

from mlserving import manifest as mf
from mlserving import store as st
from mlserving.contracts import (
    ArtifactError,
    ArtifactExpired,
    ArtifactIntegrityError,
    ArtifactLoadError,
    ArtifactNotFound,
    ModelVersion,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ResolvedArtifact:
    key: str
    model: str
    version: str
    alias: str | None
    folder: Path
    entry: dict[str, Any]
    info: ModelVersion  # what other apps are handed

    @property
    def ref(self) -> str:
        return f"{self.key}:{self.model}@{self.alias or self.version}"

    @property
    def sha256(self) -> str:
        return str(self.entry.get("sha256", ""))

    def age_days(self, *, now: datetime | None = None) -> float | None:
        return self.info.age_days(now=now)


def parse_ref(ref: str) -> tuple[str, str]:
    """``"lightgbm@champion"`` -> ``("lightgbm", "champion")``; bare name means champion."""
    name, _, selector = ref.partition("@")
    return mf.check_name(name, what="model"), mf.check_name(selector or "champion", what="version")


def resolve(ref: str, *, key: str, data: dict[str, Any] | None = None) -> ResolvedArtifact:
    """Find ``ref`` for ``key`` in the manifest (an alias first, then a version id)."""
    model, selector = parse_ref(ref)
    data = data if data is not None else mf.read_manifest()
    try:
        node = mf.model_node(data, key, model)
    except mf.ManifestError as exc:
        raise ArtifactNotFound(str(exc), ref=f"{key}:{ref}") from exc
    alias: str | None = None
    version = selector
    if selector in node.get("aliases", {}):
        alias, version = selector, node["aliases"][selector]
    entry = node.get("versions", {}).get(version)
    if entry is None:
        raise ArtifactNotFound(
            f"{key}:{model}@{selector} is not in the manifest", ref=f"{key}:{ref}"
        )
    folder = (mf.artifacts_root() / entry["path"]).resolve()
    root = mf.artifacts_root().resolve()
    if root not in folder.parents:
        raise ArtifactIntegrityError(
            f"{key}:{ref} points outside the artifacts root", ref=f"{key}:{ref}"
        )
    return ResolvedArtifact(
        key=key,
        model=model,
        version=version,
        alias=alias,
        folder=folder,
        entry=entry,
        info=mf.model_version(key, model, version, node),
    )


def max_age_days() -> float:
    return float(getattr(settings, "MODEL_MAX_AGE_DAYS", 0) or 0)


def check_age(artifact: ResolvedArtifact, *, now: datetime | None = None) -> None:
    limit = max_age_days()
    age = artifact.age_days(now=now)
    if limit > 0 and age is not None and age > limit:
        log.warning(
            "mlserving.artifact_expired", ref=artifact.ref, age_days=round(age, 2), limit=limit
        )
        raise ArtifactExpired(
            f"{artifact.ref} is {age:.1f} days old (limit {limit:g})", ref=artifact.ref
        )


def verify(artifact: ResolvedArtifact) -> dict[str, tuple[int, int, int]]:
    """Hash every listed file; refuse loudly on any mismatch, missing or unlisted file.

    Returns the files' stat signatures (for the cache).
    """
    files: dict[str, dict[str, Any]] = artifact.entry.get("files") or {}
    if not files:
        raise ArtifactIntegrityError(f"{artifact.ref} lists no files", ref=artifact.ref)
    if mf.files_digest(files) != artifact.sha256:
        _refuse(artifact, "version digest does not match its file list")
    signatures: dict[str, tuple[int, int, int]] = {}
    for name, expected in files.items():
        path = artifact.folder / name
        if not path.is_file():
            log.error("mlserving.artifact_missing", ref=artifact.ref, file=name)
            raise ArtifactNotFound(f"{artifact.ref}: file {name} is missing", ref=artifact.ref)
        st = path.stat()
        if (
            st.st_size != expected.get("size", st.st_size)
            or mf.sha256_file(path) != expected["sha256"]
        ):
            _refuse(artifact, f"file {name} does not match its recorded sha256")
        signatures[name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return signatures


def _fetch_and_verify(artifact: ResolvedArtifact) -> dict[str, tuple[int, int, int]]:
    """:func:`verify`, after downloading the files from the object store when there is one."""
    store = st.get_store()
    if store is None:
        return verify(artifact)
    names = list((artifact.entry.get("files") or {}).keys())
    rel = str(artifact.entry["path"])
    st.fetch_files(store, rel_folder=rel, folder=artifact.folder, names=names, force=False)
    try:
        return verify(artifact)
    except ArtifactError:
        st.fetch_files(store, rel_folder=rel, folder=artifact.folder, names=names, force=True)
        return verify(artifact)


def _refuse(artifact: ResolvedArtifact, why: str) -> None:
    log.error(
        "mlserving.artifact_refused",
        ref=artifact.ref,
        version=artifact.version,
        folder=str(artifact.folder),
        reason=why,
    )
    raise ArtifactIntegrityError(f"refused {artifact.ref}: {why}", ref=artifact.ref)


# --- cache ---------------------------------------------------------------------------------

_CACHE_SIZE = 64
_cache_lock = threading.Lock()
_loaded: OrderedDict[tuple[str, str, str], tuple[dict[str, tuple[int, int, int]], Any]] = (
    OrderedDict()
)


def _signatures_unchanged(
    artifact: ResolvedArtifact, sigs: dict[str, tuple[int, int, int]]
) -> bool:
    for name, sig in sigs.items():
        try:
            st = (artifact.folder / name).stat()
        except FileNotFoundError:
            return False
        if (st.st_ino, st.st_size, st.st_mtime_ns) != sig:
            return False
    return True


def clear_cache() -> None:
    with _cache_lock:
        _loaded.clear()


@dataclass(frozen=True)
class Loaded(Generic[T]):
    obj: T
    artifact: ResolvedArtifact


def load(
    ref: str,
    *,
    key: str,
    loader: Callable[[Path, dict[str, Any]], T],
    loader_name: str = "default",
    strict: bool = False,
    now: datetime | None = None,
) -> Loaded[T]:
    """Resolve, refuse if expired, verify hashes, then ``loader(folder, entry)`` (cached).

    ``strict`` re-hashes the files even on a cache hit (the cheap default re-hashes only
    when a file's inode/size/mtime changed).
    """
    artifact = resolve(ref, key=key)
    check_age(artifact, now=now)
    cache_key = (str(artifact.folder), artifact.sha256, loader_name)
    with _cache_lock:
        hit = _loaded.get(cache_key)
    if hit is not None and not strict and _signatures_unchanged(artifact, hit[0]):
        with _cache_lock:
            _loaded.move_to_end(cache_key)
        return Loaded(obj=hit[1], artifact=artifact)
    signatures = _fetch_and_verify(artifact)
    try:
        obj = loader(artifact.folder, artifact.entry)
    except ArtifactError:
        raise
    except Exception as exc:
        log.error("mlserving.artifact_load_failed", ref=artifact.ref, error=repr(exc))
        raise ArtifactLoadError(
            f"{artifact.ref} could not be loaded: {exc}", ref=artifact.ref
        ) from exc
    with _cache_lock:
        _loaded[cache_key] = (signatures, obj)
        while len(_loaded) > _CACHE_SIZE:
            _loaded.popitem(last=False)
    return Loaded(obj=obj, artifact=artifact)


@dataclass(frozen=True)
class Served(Generic[T]):
    """What :func:`load_first` served: the object, from which ref, and why not the first."""

    obj: T | None
    artifact: ResolvedArtifact | None
    requested: str
    served: str | None
    failures: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def fallback_label(self) -> str:
        """Empty when the first choice was served; else e.g.
        ``"lightgbm@champion refused (sha256 mismatch); served naive@champion"``."""
        if not self.failures:
            return ""
        refused = "; ".join(f"{ref} refused ({reason})" for ref, reason in self.failures)
        return f"{refused}; served {self.served or 'nothing'}"


def load_first(
    refs: Sequence[str],
    *,
    key: str,
    loader: Callable[[Path, dict[str, Any]], T],
    loader_name: str = "default",
    strict: bool = False,
    now: datetime | None = None,
) -> Served[T]:
    """Try ``refs`` in order; the first that resolves, is fresh and verifies is served."""
    failures: list[tuple[str, str]] = []
    for ref in refs:
        try:
            loaded = load(
                ref, key=key, loader=loader, loader_name=loader_name, strict=strict, now=now
            )
        except ArtifactError as exc:
            failures.append((ref, exc.reason))
            continue
        if failures:
            log.warning(
                "mlserving.fallback", key=key, requested=refs[0], served=ref, failures=failures
            )
        return Served(
            obj=loaded.obj,
            artifact=loaded.artifact,
            requested=refs[0],
            served=ref,
            failures=tuple(failures),
        )
    return Served(
        obj=None,
        artifact=None,
        requested=refs[0] if refs else "",
        served=None,
        failures=tuple(failures),
    )


# --- skops, allowlisted ------------------------------------------------------------------------

DEFAULT_SKOPS_TRUSTED = (
    "sklearn.preprocessing._data.RobustScaler",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.linear_model._ridge.Ridge",
    "sklearn.linear_model._ridge.RidgeCV",
    "sklearn.linear_model._base.LinearRegression",
    "sklearn.pipeline.Pipeline",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.float",
    "builtins.int",
)


def skops_trusted_types() -> tuple[str, ...]:
    extra = tuple(getattr(settings, "MLSERVING_SKOPS_TRUSTED", ()) or ())
    return DEFAULT_SKOPS_TRUSTED + extra


def load_skops(path: Path, *, trusted: Sequence[str] | None = None) -> Any:
    """Load a skops file only when every type it holds is on the allowlist."""
    # deferred: skops pulls in scikit-learn; only callers that load skops files pay for it
    import skops.io as sio

    allow = set(trusted if trusted is not None else skops_trusted_types())
    listed = sio.get_untrusted_types(file=str(path))
    refused = [t for t in listed if t not in allow]
    if refused:
        log.error("mlserving.skops_untrusted_types", file=str(path), types=refused)
        raise ArtifactLoadError(f"{path.name} holds types outside the allowlist: {refused}")
    return sio.load(str(path), trusted=listed)
