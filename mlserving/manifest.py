"""The model manifest: ``<MODEL_ARTIFACTS_DIR>/manifest.json``.

mlserving knows nothing of coins: a *key* is the caller's namespace (forecasts uses the coin
symbol), a *model* is a name inside it, and each model has immutable *versions* plus
*aliases* (``champion``, ``challenger``, ``previous_champion``) pointing at versions.

Layout on disk (paths in the manifest are relative to the artifacts root)::

    manifest.json
    manifest.lock                      # advisory lock held by writers
    <key>/<model>/<version>/           # one folder per version, written once
        version.json                   # this version's entry as written at training time
        <artifact files ...>           # LightGBM text, ONNX, .keras, skops, JSON
    preprocessing/<key>/               # per-key preprocessing files (feature names, scalers)

Manifest shape::

    {"schema": 1, "updated_at": "...",
     "keys": {"BTC": {
        "preprocessing": {"files": {"preprocessing/BTC/feature_names.json": {"sha256", "size"}}},
        "models": {"lightgbm": {
            "aliases": {"champion": "v20261122T080000Z-1a2b3c", "challenger": "..."},
            "versions": {"v20261122T080000Z-1a2b3c": {
                "path": "BTC/lightgbm/v20261122T080000Z-1a2b3c", "format": "lightgbm",
                "sha256": "<digest over every file's name and sha256>", "size": 12345,
                "files": {"model.txt": {"sha256": "...", "size": 12000}, ...},
                "spec": {...loader spec...}, "feature_names": [...], "scalers": {...},
                "training_window": {"start": "...", "end": "..."}, "metrics": {...},
                "library_versions": {...}, "code_version": "<git sha>", "created_at": "..."}}}}}}}

Writes go through :func:`update_manifest` (file lock + re-read + temp file + fsync +
``os.replace``), so readers never see a half-written file and concurrent writers never lose
each other's changes. Readers call :func:`read_manifest`, which re-parses only when the
file's (inode, size, mtime) changed: a cheap ``stat`` per request, so retraining plus
``build_manifest`` activates new artifacts without a restart.

With an object store (``MODEL_ARTIFACTS_URL``, see :mod:`mlserving.store`) the manifest is the
store's ``manifest.json``: writers take a lease shared by every machine, re-read it, and
replace it with one PUT; readers re-check its ETag at most every
``MODEL_ARTIFACTS_POLL_SECONDS`` (a request costs nothing in between).

Private to mlserving: other apps read the manifest through ``mlserving.selectors`` (frozen
``mlserving.contracts``), never this dict shape.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings

from mlserving import store as st
from mlserving.contracts import ModelVersion, RegisteredModel

log = structlog.get_logger(__name__)

SCHEMA_VERSION = 1
MANIFEST_NAME = "manifest.json"
LOCK_NAME = "manifest.lock"
VERSION_META = "version.json"
ALIASES = ("champion", "challenger", "previous_champion")
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ManifestError(Exception):
    """The manifest is unreadable or a request names something it does not hold."""


def artifacts_root() -> Path:
    return Path(settings.MODEL_ARTIFACTS_DIR)


def manifest_path(root: Path | None = None) -> Path:
    return (root or artifacts_root()) / MANIFEST_NAME


def check_name(value: str, *, what: str) -> str:
    """Keys, model names and versions become path parts: refuse anything path-like."""
    if not isinstance(value, str) or not _NAME_RE.match(value) or ".." in value:
        raise ManifestError(f"invalid {what}: {value!r}")
    return value


def empty_manifest() -> dict[str, Any]:
    return {"schema": SCHEMA_VERSION, "updated_at": None, "keys": {}}


def sha256_file(path: Path, *, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def files_digest(files: dict[str, dict[str, Any]]) -> str:
    """One digest naming a whole version: sha256 over sorted ``name:sha256`` lines."""
    lines = "".join(f"{name}:{files[name]['sha256']}\n" for name in sorted(files))
    return hashlib.sha256(lines.encode()).hexdigest()


def hash_folder(folder: Path, *, exclude: tuple[str, ...] = (VERSION_META,)) -> dict[str, Any]:
    """``{relative name: {"sha256", "size"}}`` for every regular file below ``folder``."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        rel = path.relative_to(folder).as_posix()
        if rel in exclude:
            continue
        files[rel] = {"sha256": sha256_file(path), "size": path.stat().st_size}
    return files


# --- reading (cached, re-read on change) ---------------------------------------------------

_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def _stat_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _parse(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return _checked(json.load(fh), where=str(path))


def _checked(data: Any, *, where: str) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("keys"), dict):
        raise ManifestError(f"{where} is not a cryptocast model manifest")
    return data


# url -> (checked at (monotonic), the object's ETag, parsed manifest)
_remote_cache: dict[str, tuple[float, str | None, dict[str, Any]]] = {}


def _read_remote(store: st.ObjectStore, *, fresh: bool) -> dict[str, Any]:
    now = time.monotonic()
    cached = _remote_cache.get(store.url)
    if cached is not None and not fresh and now - cached[0] < st.poll_seconds():
        return cached[2]
    where = store.path(MANIFEST_NAME)
    signature = store.signature(MANIFEST_NAME)
    if signature is None:
        data = empty_manifest()
    elif cached is not None and cached[1] == signature:
        data = cached[2]
    else:
        raw = store.read_bytes(MANIFEST_NAME)
        try:
            data = _checked(json.loads(raw or b"{}"), where=where)
        except ValueError as exc:
            raise ManifestError(f"{where} is not valid JSON: {exc}") from exc
    with _cache_lock:
        _remote_cache[store.url] = (now, signature, data)
    return data


def read_manifest(root: Path | None = None, *, fresh: bool = False) -> dict[str, Any]:
    """The parsed manifest (shared; treat as read-only). Empty when none was written yet.

    Costs one ``stat`` when nothing changed; an atomic ``os.replace`` always changes the
    inode, so a rewrite is never missed even within one mtime tick. With an object store
    (and no explicit ``root``), one ETag check per poll interval; ``fresh`` checks now.
    """
    store = st.get_store() if root is None else None
    if store is not None:
        return _read_remote(store, fresh=fresh)
    path = manifest_path(root)
    signature = _stat_signature(path)
    if signature is None:
        return empty_manifest()
    cache_key = str(path)
    cached = _cache.get(cache_key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    with _cache_lock:
        data = _parse(path)
        _cache[cache_key] = (signature, data)
    return data


def signature(root: Path | None = None) -> str:
    """The manifest file's (inode, size, mtime) as text, ``"none"`` before the first write: a
    cache key part that changes with every rewrite, for one ``stat``."""
    found = _stat_signature(manifest_path(root))
    return "none" if found is None else "-".join(map(str, found))


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
        _remote_cache.clear()


# --- writing (locked, atomic) ---------------------------------------------------------------


@contextlib.contextmanager
def manifest_lock(root: Path | None = None) -> Iterator[None]:
    """Exclusive advisory lock shared by every process writing this artifacts root."""
    base = root or artifacts_root()
    base.mkdir(parents=True, exist_ok=True)
    with open(base / LOCK_NAME, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def write_json_atomic(path: Path, data: Any) -> None:
    """Temp file in the same folder + fsync + ``os.replace`` + fsync of the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True, default=str)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def update_manifest(
    mutate: Callable[[dict[str, Any]], Any], *, root: Path | None = None
) -> dict[str, Any]:
    """Apply ``mutate`` to a fresh copy of the manifest under the lock and write it atomically.

    Returns the new manifest. ``mutate`` edits the dict in place; raising aborts the write.
    With an object store (and no explicit ``root``) the same under the writers' lease.
    """
    store = st.get_store() if root is None else None
    if store is not None:
        return _update_remote(store, mutate)
    path = manifest_path(root)
    with manifest_lock(root):
        data = _parse(path) if path.exists() else empty_manifest()
        data = copy.deepcopy(data)
        mutate(data)
        data["schema"] = SCHEMA_VERSION
        data["updated_at"] = now_iso()
        write_json_atomic(path, data)
    log.info("manifest.written", path=str(path))
    return data


def _update_remote(
    store: st.ObjectStore, mutate: Callable[[dict[str, Any]], Any]
) -> dict[str, Any]:
    with st.writers_lease():
        data = copy.deepcopy(_read_remote(store, fresh=True))
        mutate(data)
        data["schema"] = SCHEMA_VERSION
        data["updated_at"] = now_iso()
        body = json.dumps(data, indent=2, sort_keys=True, default=str).encode() + b"\n"
        store.write_bytes(MANIFEST_NAME, body)
        signature = store.signature(MANIFEST_NAME)
    data = json.loads(body)  # what every other reader parses
    with _cache_lock:  # this process sees its own write at once
        _remote_cache[store.url] = (time.monotonic(), signature, data)
    log.info("manifest.written", url=store.path(MANIFEST_NAME))
    return data


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- navigation helpers ------------------------------------------------------------------------


def model_node(
    data: dict[str, Any], key: str, model: str, *, create: bool = False
) -> dict[str, Any]:
    keys = data.setdefault("keys", {}) if create else data.get("keys", {})
    if key not in keys:
        if not create:
            raise ManifestError(f"no models registered for {key!r}")
        keys[key] = {"models": {}, "preprocessing": {"files": {}}}
    models = keys[key].setdefault("models", {})
    if model not in models:
        if not create:
            raise ManifestError(f"no model {model!r} registered for {key!r}")
        models[model] = {"aliases": {}, "versions": {}}
    return models[model]


def iter_versions(data: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """``(key, model, version, entry)`` for every version in the manifest."""
    for key, key_node in sorted(data.get("keys", {}).items()):
        for model, node in sorted(key_node.get("models", {}).items()):
            for version, entry in sorted(node.get("versions", {}).items()):
                yield key, model, version, entry


def aliases_of(node: dict[str, Any], version: str) -> list[str]:
    return sorted(a for a, v in node.get("aliases", {}).items() if v == version)


def model_version(key: str, model: str, version: str, node: dict[str, Any]) -> ModelVersion:
    """The contract view of one version entry of ``node`` (a model's manifest node)."""
    entry = node["versions"][version]
    created = entry.get("created_at")
    return ModelVersion(
        key=key,
        model=model,
        version=version,
        aliases=tuple(aliases_of(node, version)),
        format=entry.get("format"),
        path=str(entry.get("path", "")),
        sha256=str(entry.get("sha256", "")),
        size=entry.get("size"),
        created=str(created) if created else None,
        metrics=entry.get("metrics") or {},
        training_window=entry.get("training_window") or {},
        meta=entry,
    )


def registered_model(key: str, model: str, node: dict[str, Any]) -> RegisteredModel:
    return RegisteredModel(
        key=key,
        model=model,
        aliases=dict(node.get("aliases") or {}),
        versions=tuple(
            model_version(key, model, version, node) for version in sorted(node.get("versions", {}))
        ),
    )


def new_version_id(*, when: datetime | None = None, salt: str = "") -> str:
    when = when or datetime.now(UTC)
    suffix = hashlib.sha256(f"{when.isoformat()}|{salt}|{os.getpid()}".encode()).hexdigest()[:6]
    return f"v{when.strftime('%Y%m%dT%H%M%S')}-{suffix}"
