"""Writes of `mlserving`: register versions, move aliases, rebuild the manifest, mirror it;
and serving: load the first verified version of a fallback list.

The promotion rule lives here and is domain-free: every version's ``metrics`` carries a
``skill_score`` (lower is better; forecasts uses the mean relMAE vs naive over horizons,
measured walk-forward). A ``challenger`` becomes ``champion`` only when its score is
strictly lower than the champion's (or there is no scored champion yet).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from mlserving import loading
from mlserving import manifest as mf
from mlserving import store as st
from mlserving.contracts import SKILL_KEY, PromotionResult, Servable, Served, finite_or_none
from mlserving.models import ModelVersion

log = structlog.get_logger(__name__)
T = TypeVar("T")


class RegistryError(Exception):
    """A registry operation that cannot be done (readable message)."""


# --- staging and registration -------------------------------------------------------------------


@contextlib.contextmanager
def staging_folder(*, root: Path | None = None) -> Iterator[Path]:
    """A scratch folder on the artifacts volume (so registering is a same-disk rename)."""
    base = (root or mf.artifacts_root()) / ".staging"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="stage-", dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def code_version() -> str:
    """The git commit of the running code when available (else the app version)."""
    env = os.environ.get("CRYPTOCAST_GIT_SHA")
    if env:
        return env
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=2,
            check=True,
        )
        return out.stdout.strip() or str(settings.VERSION)
    except Exception:
        return str(settings.VERSION)


def register_version(
    *,
    key: str,
    model: str,
    source: Path,
    meta: dict[str, Any],
    alias: str | None = "challenger",
    version: str | None = None,
    root: Path | None = None,
) -> str:
    """Move ``source`` (a staged folder) into ``<key>/<model>/<version>/``, hash every file,
    write its ``version.json`` and record it in the manifest under ``alias``. Returns the id.

    ``meta`` carries the descriptive fields (format, spec, feature_names, scalers,
    training_window, metrics, library_versions); hashes, sizes, path and timestamps are
    computed here.
    """
    base = root or mf.artifacts_root()
    mf.check_name(key, what="key")
    mf.check_name(model, what="model")
    version = mf.check_name(version or mf.new_version_id(salt=f"{key}/{model}"), what="version")
    dest = base / key / model / version
    if registered_version(key=key, model=model, version=version, root=root) is not None:
        raise RegistryError(f"{key}/{model}/{version} already exists; versions are immutable")
    if dest.exists():
        # A writer died between moving the folder in and recording it in the manifest: the
        # folder was never served (the manifest is the gate), so its re-run replaces it.
        log.warning("mlserving.orphan_replaced", key=key, model=model, version=version)
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, dest)
    source.mkdir(exist_ok=True)  # the staging context removes it
    files = mf.hash_folder(dest)
    if not files:
        raise RegistryError(f"{key}/{model}: nothing was saved")
    entry: dict[str, Any] = {
        **meta,
        "path": f"{key}/{model}/{version}",
        "files": files,
        "sha256": mf.files_digest(files),
        "size": sum(f["size"] for f in files.values()),
        "code_version": meta.get("code_version") or code_version(),
        "created_at": meta.get("created_at") or mf.now_iso(),
    }
    mf.write_json_atomic(dest / mf.VERSION_META, entry)
    _upload(root, dest, entry["path"])  # files first: the manifest never names a missing object

    def mutate(data: dict[str, Any]) -> None:
        node = mf.model_node(data, key, model, create=True)
        node["versions"][version] = entry
        if alias:
            node["aliases"][alias] = version

    mf.update_manifest(mutate, root=root)
    log.info("mlserving.version_registered", key=key, model=model, version=version, alias=alias)
    _mirror_after_write(root, key=key, model=model)
    return version


def registered_version(
    *, key: str, model: str, version: str, root: Path | None = None
) -> dict[str, Any] | None:
    """The manifest entry of ``key/model/version``, or None when it is not registered
    (what a re-run of an interrupted training job asks before redoing the work)."""
    data = mf.read_manifest(root, fresh=True)
    node = (data.get("keys", {}).get(key) or {}).get("models", {}).get(model) or {}
    entry = (node.get("versions") or {}).get(version)
    return dict(entry) if entry else None


def register_preprocessing(*, key: str, folder: Path, root: Path | None = None) -> dict[str, Any]:
    """Record the hashes of ``preprocessing/<key>/`` files (feature names, scalers)."""
    files = {
        f"preprocessing/{key}/{name}": info
        for name, info in mf.hash_folder(folder, exclude=()).items()
    }
    _upload(root, folder, f"preprocessing/{key}")

    def mutate(data: dict[str, Any]) -> None:
        keys = data.setdefault("keys", {})
        keys.setdefault(key, {"models": {}, "preprocessing": {"files": {}}})
        keys[key]["preprocessing"] = {"files": files, "updated_at": mf.now_iso()}

    mf.update_manifest(mutate, root=root)
    return files


def preprocessing_write(
    *, key: str, files: Mapping[str, Any], root: Path | None = None
) -> dict[str, Any]:
    """Write JSON documents (``{file name: data}``) into ``preprocessing/<key>/``, each
    atomically, and record their hashes in the manifest."""
    mf.check_name(key, what="key")
    folder = (root or mf.artifacts_root()) / "preprocessing" / key
    for name, data in files.items():
        mf.write_json_atomic(folder / mf.check_name(name, what="file name"), data)
    return register_preprocessing(key=key, folder=folder, root=root)


def _upload(root: Path | None, folder: Path, rel: str) -> None:
    """Copy a written folder to the object store (nothing to do for the shared directory)."""
    store = st.get_store() if root is None else None
    if store is not None:
        count = store.put_folder(folder, rel)
        log.info("mlserving.store_uploaded", url=store.url, folder=rel, files=count)


# --- aliases and promotion ------------------------------------------------------------------------


def skill_of(entry: dict[str, Any] | None) -> float | None:
    if not entry:
        return None
    return finite_or_none((entry.get("metrics") or {}).get(SKILL_KEY))


def beats(challenger: float | None, champion: float | None) -> bool:
    """The promotion rule: a scored challenger must be strictly better (lower) than a scored
    champion; an unscored challenger never beats anything; anything beats no champion."""
    if challenger is None:
        return False
    if champion is None:
        return True
    return challenger < champion


def promote(
    *,
    key: str,
    model: str,
    version: str | None = None,
    force: bool = False,
    root: Path | None = None,
) -> PromotionResult:
    """Make ``version`` (default: the ``challenger``) champion if it beats the champion.

    ``force`` skips the rule (a staff decision from the admin, logged). The old champion
    becomes ``previous_champion`` so :func:`rollback` can restore it.
    """
    outcome: dict[str, Any] = {}

    def mutate(data: dict[str, Any]) -> None:
        try:
            node = mf.model_node(data, key, model)
        except mf.ManifestError as exc:
            raise RegistryError(str(exc)) from exc
        aliases = node.setdefault("aliases", {})
        candidate = version or aliases.get("challenger")
        if not candidate or candidate not in node["versions"]:
            raise RegistryError(f"{key}/{model}: no challenger to promote")
        current = aliases.get("champion")
        cand_skill = skill_of(node["versions"][candidate])
        champ_skill = skill_of(node["versions"].get(current)) if current else None
        outcome.update(candidate=candidate, current=current, cand=cand_skill, champ=champ_skill)
        if current == candidate:
            outcome["reason"] = "already champion"
            raise _NoChange
        if not force and current and not beats(cand_skill, champ_skill):
            outcome["reason"] = (
                f"challenger skill {_fmt(cand_skill)} does not beat champion {_fmt(champ_skill)}"
            )
            raise _NoChange
        if current:
            aliases["previous_champion"] = current
        aliases["champion"] = candidate
        if aliases.get("challenger") == candidate:
            aliases.pop("challenger")
        outcome["reason"] = (
            "forced by staff"
            if force and current and not beats(cand_skill, champ_skill)
            else (
                "no champion yet"
                if not current
                else f"challenger skill {_fmt(cand_skill)} beats champion {_fmt(champ_skill)}"
            )
        )

    try:
        mf.update_manifest(mutate, root=root)
        promoted = True
    except _NoChange:
        promoted = False
    champion = outcome["candidate"] if promoted else outcome.get("current")
    log.info(
        "mlserving.promotion", key=key, model=model, promoted=promoted, reason=outcome["reason"]
    )
    _mirror_after_write(root, key=key, model=model)
    return PromotionResult(
        key=key,
        model=model,
        promoted=promoted,
        champion=champion,
        reason=outcome["reason"],
        challenger_skill=outcome.get("cand"),
        champion_skill=outcome.get("champ"),
    )


class _NoChange(Exception):
    pass


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def rollback(*, key: str, model: str, root: Path | None = None) -> PromotionResult:
    """Swap ``champion`` and ``previous_champion`` (undo the last promotion)."""
    outcome: dict[str, Any] = {}

    def mutate(data: dict[str, Any]) -> None:
        try:
            node = mf.model_node(data, key, model)
        except mf.ManifestError as exc:
            raise RegistryError(str(exc)) from exc
        aliases = node.setdefault("aliases", {})
        previous = aliases.get("previous_champion")
        if not previous or previous not in node["versions"]:
            raise RegistryError(f"{key}/{model}: no previous champion to roll back to")
        current = aliases.get("champion")
        aliases["champion"] = previous
        if current:
            aliases["previous_champion"] = current
        else:
            aliases.pop("previous_champion")
        outcome.update(champion=previous, replaced=current)

    mf.update_manifest(mutate, root=root)
    log.warning("mlserving.rollback", key=key, model=model, **outcome)
    _mirror_after_write(root, key=key, model=model)
    return PromotionResult(
        key=key,
        model=model,
        promoted=True,
        champion=outcome["champion"],
        reason=f"rolled back from {outcome['replaced']}",
    )


# --- rebuild from folders -------------------------------------------------------------------------


@dataclass
class BuildReport:
    versions: int = 0
    keys: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    aliases_dropped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused


def verify_version_folder(folder: Path, entry: dict[str, Any]) -> str | None:
    """None when every file recorded at training time is present and unchanged."""
    files = entry.get("files") or {}
    if not files:
        return "version.json lists no files"
    if mf.files_digest(files) != entry.get("sha256"):
        return "version digest does not match its file list"
    for name, info in files.items():
        path = folder / name
        if not path.is_file():
            return f"file {name} is missing"
        if mf.sha256_file(path) != info.get("sha256"):
            return f"file {name} does not match its recorded sha256"
    return None


def build_manifest(*, root: Path | None = None, progress: Any = None) -> BuildReport:
    """Rebuild ``manifest.json`` from the version folders' ``version.json`` files.

    Every version is re-verified against the hashes recorded when it was trained; a folder
    that fails is left out of the manifest and reported (loudly). Existing aliases are kept
    when their version survives; a model without a champion gets its best-scored version.
    """
    base = root or mf.artifacts_root()
    report = BuildReport()
    if root is None:
        pull_store(base)
    found: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    metas = sorted(base.glob(f"*/*/*/{mf.VERSION_META}"))
    iterator = progress(metas) if progress else metas
    for meta_path in iterator:
        folder = meta_path.parent
        rel = folder.relative_to(base).as_posix()
        if rel.startswith((".staging", "preprocessing")):
            continue
        key, model, version = folder.relative_to(base).parts
        try:
            entry = _read(meta_path)
        except Exception as exc:
            report.refused.append((rel, f"unreadable version.json: {exc}"))
            continue
        problem = verify_version_folder(folder, entry)
        if problem:
            log.error("mlserving.build_refused", path=rel, reason=problem)
            report.refused.append((rel, problem))
            continue
        entry["path"] = rel
        found.setdefault(key, {}).setdefault(model, {})[version] = entry
        report.versions += 1
    pre_found: dict[str, dict[str, Any]] = {}
    for folder in (
        sorted((base / "preprocessing").glob("*")) if (base / "preprocessing").is_dir() else []
    ):
        if folder.is_dir():
            pre_found[folder.name] = {
                f"preprocessing/{folder.name}/{n}": i
                for n, i in mf.hash_folder(folder, exclude=()).items()
            }

    def mutate(data: dict[str, Any]) -> None:
        old_keys = data.get("keys", {})
        new_keys: dict[str, Any] = {}
        for key, models in sorted(found.items()):
            new_models: dict[str, Any] = {}
            for model, versions in sorted(models.items()):
                old_aliases = (
                    old_keys.get(key, {}).get("models", {}).get(model, {}).get("aliases", {})
                )
                aliases = {}
                for alias, target in old_aliases.items():
                    if target in versions:
                        aliases[alias] = target
                    else:
                        report.aliases_dropped.append(f"{key}/{model}@{alias}->{target}")
                if "champion" not in aliases:
                    scored = [
                        (skill_of(e), v) for v, e in versions.items() if skill_of(e) is not None
                    ]
                    aliases["champion"] = min(scored)[1] if scored else max(versions)
                new_models[model] = {"aliases": aliases, "versions": versions}
            new_keys[key] = {
                "models": new_models,
                "preprocessing": {"files": pre_found.get(key, {})},
            }
        data["keys"] = new_keys

    mf.update_manifest(mutate, root=root)
    report.keys = len(found)
    _mirror_after_write(root)
    return report


def pull_store(base: Path) -> int:
    """Object store only: download every version and preprocessing file missing from the
    local working copy (what :func:`build_manifest` then re-verifies). Returns the count."""
    store = st.get_store()
    if store is None:
        return 0
    count = 0
    for rel in store.find():
        if rel == mf.MANIFEST_NAME or rel.startswith(".") or (base / rel).is_file():
            continue
        store.get_file(rel, base / rel)
        count += 1
    log.info("mlserving.store_pulled", url=store.url, files=count)
    return count


def _read(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


# --- registry table (admin mirror) ----------------------------------------------------------------


def _mirror_after_write(
    root: Path | None, *, key: str | None = None, model: str | None = None
) -> None:
    """Mirror the manifest into the registry table (only for the configured root).

    A write that touched one ``key/model`` mirrors only that node, so concurrent training
    tasks (one per key x model) never touch each other's rows.
    """
    if root is not None and Path(root).resolve() != mf.artifacts_root().resolve():
        return
    try:
        sync_registry(key=key, model=model)
    except Exception as exc:  # the manifest is the source of truth; the table is a view
        log.warning("mlserving.registry_sync_failed", error=repr(exc))


@transaction.atomic
def sync_registry(*, key: str | None = None, model: str | None = None) -> int:
    """Make the ``ModelVersion`` table mirror the manifest (for the admin). Returns rows.

    With ``key``/``model``, only that node's rows are written and pruned. A full sync prunes
    only rows older than its own read of the manifest: a row another process mirrored after
    that read (a version registered meanwhile) is never deleted by a stale view.
    """
    started = timezone.now()
    data = mf.read_manifest()
    seen: set[tuple[str, str, str]] = set()
    for k, m, version, entry in mf.iter_versions(data):
        if (key is not None and k != key) or (model is not None and m != model):
            continue
        node = data["keys"][k]["models"][m]
        seen.add((k, m, version))
        ModelVersion.objects.update_or_create(
            key=k,
            model=m,
            version=version,
            defaults={
                "format": str(entry.get("format", ""))[:32],
                "sha256": entry.get("sha256", ""),
                "size": int(entry.get("size") or 0),
                "path": entry.get("path", ""),
                "aliases": ",".join(mf.aliases_of(node, version)),
                "skill_score": skill_of(entry),
                "metrics": entry.get("metrics") or {},
                "training_window": entry.get("training_window") or {},
                "code_version": str(entry.get("code_version", ""))[:64],
                "trained_at": entry.get("created_at"),
            },
        )
    rows = ModelVersion.objects.filter(synced_at__lt=started)
    if key is not None:
        rows = rows.filter(key=key)
    if model is not None:
        rows = rows.filter(model=model)
    stale = [
        pk
        for pk, k, m, v in rows.values_list("pk", "key", "model", "version")
        if (k, m, v) not in seen
    ]
    ModelVersion.objects.filter(pk__in=stale).delete()
    return len(seen)


# --- serving ------------------------------------------------------------------------------------


def load_first(
    refs: Sequence[str],
    *,
    key: str,
    loader: Callable[[Path, dict[str, Any]], T],
    loader_name: str = "default",
    strict: bool = False,
    now: datetime | None = None,
) -> Served[T]:
    """Serve the first of ``refs`` (``name@alias`` / ``name@version``) that is registered for
    ``key``, not expired, and whose every file matches its recorded sha256; the ones refused
    before it are listed in ``failures``.

    ``loader(folder, meta)`` deserialises a verified version (``meta``: what was registered
    with it); its result is cached per (folder, digest, ``loader_name``). ``strict`` re-hashes
    the files even on a cache hit.
    """
    found = loading.load_first(
        refs, key=key, loader=loader, loader_name=loader_name, strict=strict, now=now
    )
    servable = (
        Servable(obj=found.obj, version=found.artifact.info)
        if found.obj is not None and found.artifact is not None
        else None
    )
    return Served(
        servable=servable,
        requested=found.requested,
        served=found.served,
        failures=found.failures,
    )


def reset_caches() -> None:
    """Forget this process's parsed manifest and loaded models (tests; a moved artifacts root).
    Nothing is lost: both are re-read from the artifacts on the next call."""
    mf.clear_cache()
    loading.clear_cache()
