"""Where artifacts live when trainers and web processes run on different machines.

One interface, two backends, chosen by ``MODEL_ARTIFACTS_URL``:

- **shared directory** (empty, the default): ``MODEL_ARTIFACTS_DIR`` *is* the store, a volume
  every process mounts (the embedded mode, the compose ``artifacts`` volume, NFSv4). Nothing
  is copied; the manifest's file lock serialises writers.
- **object store** (``s3://bucket/prefix``, or any fsspec URL): the store holds the manifest
  and every version folder under the prefix; ``MODEL_ARTIFACTS_DIR`` becomes this machine's
  working copy (staging for a trainer, a download cache for a web process). Through fsspec +
  s3fs, so any S3-compatible service works (AWS, MinIO, Ceph, R2: ``MODEL_ARTIFACTS_S3_*``).

What stays the same either way: folders are written once, the manifest is the gate, and a
reader checks every file's sha256 against the manifest *after* downloading it and before
deserialising (``mlserving.loading``). A tampered or truncated object is refused, whatever
the store says about it.

Writers of the object store (one ``update_manifest`` at a time across machines) exclude each
other with a ``core.locks`` lease (Redis in services mode, the database otherwise), which every
trainer shares with the web processes anyway; upload order is files first, manifest last, so
the manifest never names an object that is not there yet.

Private to mlserving (the manifest, the loader and the registry services use it).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import structlog
from django.conf import settings

from core import locks

log = structlog.get_logger(__name__)

MANIFEST_LEASE = "mlserving:manifest"


class StoreError(Exception):
    """The artifact store is misconfigured or cannot be reached (readable message)."""


def store_url() -> str:
    return str(getattr(settings, "MODEL_ARTIFACTS_URL", "") or "").strip()


def _storage_options(url: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if url.startswith(("s3://", "s3a://")):
        endpoint = getattr(settings, "MODEL_ARTIFACTS_S3_ENDPOINT_URL", "")
        key = getattr(settings, "MODEL_ARTIFACTS_S3_ACCESS_KEY_ID", "")
        secret = getattr(settings, "MODEL_ARTIFACTS_S3_SECRET_ACCESS_KEY", "")
        region = getattr(settings, "MODEL_ARTIFACTS_S3_REGION", "")
        client_kwargs: dict[str, Any] = {}
        if endpoint:
            client_kwargs["endpoint_url"] = endpoint
        if region:
            client_kwargs["region_name"] = region
        if client_kwargs:
            options["client_kwargs"] = client_kwargs
        if key or secret:  # else botocore's chain: AWS_* variables, profile, instance role
            options.update(key=key, secret=secret)
        # a listing cached by s3fs would hide a manifest another machine just wrote
        options["use_listings_cache"] = False
    return options


class ObjectStore:
    """The manifest and version folders under ``url`` (an fsspec URL)."""

    def __init__(self, url: str) -> None:
        # deferred: fsspec (and s3fs behind it) only where an object store is configured
        import fsspec

        if "://" not in url:
            raise StoreError(
                f"MODEL_ARTIFACTS_URL must be a URL such as s3://bucket/prefix, not {url!r} "
                "(for a shared directory leave it empty and set MODEL_ARTIFACTS_DIR)"
            )
        try:
            self.fs, base = fsspec.url_to_fs(url, **_storage_options(url))
        except (ImportError, ValueError) as exc:
            raise StoreError(f"MODEL_ARTIFACTS_URL {url!r}: {exc}") from exc
        self.url = url
        self.base = base.rstrip("/")

    def path(self, rel: str) -> str:
        return f"{self.base}/{rel.lstrip('/')}"

    # --- objects ---------------------------------------------------------------------------

    def put_file(self, local: Path, rel: str) -> None:
        self.fs.put_file(str(local), self.path(rel))

    def put_folder(self, local: Path, rel: str) -> int:
        """Upload every regular file below ``local`` to ``rel/``; returns the file count."""
        count = 0
        for path in sorted(Path(local).rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.put_file(path, f"{rel}/{path.relative_to(local).as_posix()}")
                count += 1
        return count

    def get_file(self, rel: str, local: Path) -> None:
        """Download ``rel`` to ``local`` through a temp file (a reader never sees half)."""
        local.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{local.name}.", suffix=".part", dir=local.parent)
        os.close(fd)
        try:
            self.fs.get_file(self.path(rel), tmp)
            os.replace(tmp, local)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def find(self, rel: str = "") -> list[str]:
        """Every object below ``rel``, as paths relative to the store's prefix."""
        root = self.path(rel) if rel else self.base
        try:
            found = self.fs.find(root)
        except FileNotFoundError:
            return []
        strip = len(self.base) + 1
        return sorted(p[strip:] for p in found if p.startswith(self.base + "/"))

    # --- the manifest ----------------------------------------------------------------------

    def signature(self, rel: str) -> str | None:
        """A cheap change marker of one object (ETag, else size + mtime); None if absent."""
        try:
            info = self.fs.info(self.path(rel))
        except FileNotFoundError:
            return None
        marker = info.get("ETag") or info.get("etag")
        if marker:
            return str(marker)
        return f"{info.get('size')}:{info.get('mtime') or info.get('LastModified')}"

    def read_bytes(self, rel: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(self.path(rel)))
        except FileNotFoundError:
            return None

    def write_bytes(self, rel: str, data: bytes) -> None:
        """One PUT: S3 replaces an object whole, so readers see the old or the new manifest."""
        self.fs.pipe_file(self.path(rel), data)


_store_lock = threading.Lock()
_stores: dict[tuple[Any, ...], ObjectStore] = {}


def get_store() -> ObjectStore | None:
    """The configured object store, or None for the shared directory (built lazily, cached
    per configuration so a settings override in a test gets its own, and per process: a
    client made before a fork (gunicorn, prefork Celery) is never used in the child)."""
    url = store_url()
    if not url:
        return None
    signature = (
        os.getpid(),
        url,
        getattr(settings, "MODEL_ARTIFACTS_S3_ENDPOINT_URL", ""),
        getattr(settings, "MODEL_ARTIFACTS_S3_ACCESS_KEY_ID", ""),
        getattr(settings, "MODEL_ARTIFACTS_S3_REGION", ""),
    )
    with _store_lock:
        store = _stores.get(signature)
        if store is None:
            store = _stores[signature] = ObjectStore(url)
    return store


def poll_seconds() -> float:
    return float(getattr(settings, "MODEL_ARTIFACTS_POLL_SECONDS", 30) or 0)


@contextlib.contextmanager
def writers_lease(*, wait: float = 120.0, ttl: float = 60.0) -> Iterator[None]:
    """Exclusive across machines: one manifest writer at a time (waits up to ``wait`` s)."""
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        lease = locks.acquire(MANIFEST_LEASE, ttl=ttl)
        if lease is not None:
            break
        if time.monotonic() > deadline:
            raise StoreError(f"the manifest lease was held for more than {wait:g} s")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    try:
        yield
    finally:
        lease.release()


def fetch_files(
    store: ObjectStore, *, rel_folder: str, folder: Path, names: Iterable[str], force: bool
) -> int:
    """Download the listed files of one version folder (only missing ones unless ``force``).

    Returns how many were downloaded. Nothing is trusted here: the caller verifies hashes.
    """
    count = 0
    for name in names:
        local = folder / name
        if not force and local.is_file():
            continue
        try:
            store.get_file(f"{rel_folder}/{name}", local)
        except FileNotFoundError:
            log.error("mlserving.store_object_missing", url=store.url, path=f"{rel_folder}/{name}")
            continue  # verify() reports it as missing
        count += 1
    if count:
        log.info("mlserving.store_fetched", url=store.url, folder=rel_folder, files=count)
    return count
