"""The artifact disk fills up (ENOSPC) while a model version is registered: the manifest is left
exactly as it was (readers keep serving the old version), no temp file is left behind, and the
same registration succeeds once space is back, without a restart (issue 16)."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest

from mlserving import loading, services
from mlserving import manifest as mf

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


@pytest.fixture
def artifacts(tmp_path, settings):  # type: ignore[no-untyped-def]
    root = tmp_path / "artifacts"
    root.mkdir()
    settings.MODEL_ARTIFACTS_DIR = root
    mf.clear_cache()
    loading.clear_cache()
    yield root
    mf.clear_cache()
    loading.clear_cache()


def _register(root: Path, payload: str) -> str:
    with services.staging_folder(root=root) as stage:
        (stage / "model.json").write_text(json.dumps({"payload": payload}))
        return services.register_version(
            key="BTC", model="naive", source=stage, meta={"format": "json"}, alias="champion"
        )


def _stray_temp_files(root: Path) -> list[Path]:
    return list(root.rglob("*.tmp")) + [
        p for p in (root / ".staging").glob("*") if any(p.iterdir())
    ]


@pytest.mark.parametrize("fail_on", ["version.json", "manifest.json"])
def test_enospc_leaves_the_manifest_intact_and_recovery_needs_no_restart(
    artifacts: Path, monkeypatch, fail_on: str
) -> None:  # type: ignore[no-untyped-def]
    first = _register(artifacts, "v1")
    before = mf.manifest_path(artifacts).read_bytes()
    real_dump = json.dump

    def dump_until_full(obj, fh, **kwargs):  # type: ignore[no-untyped-def]
        is_manifest = isinstance(obj, dict) and "keys" in obj
        if is_manifest == (fail_on == "manifest.json"):
            fh.write('{"schema": 1, "half": ')  # a partial write, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_dump(obj, fh, **kwargs)

    monkeypatch.setattr(mf.json, "dump", dump_until_full)
    with pytest.raises(OSError) as caught:
        _register(artifacts, "v2")
    assert caught.value.errno == errno.ENOSPC
    # nothing half-written: byte-identical manifest, still parseable, still serving v1
    assert mf.manifest_path(artifacts).read_bytes() == before
    mf.clear_cache()
    node = mf.model_node(mf.read_manifest(artifacts), "BTC", "naive")
    assert node["aliases"]["champion"] == first and list(node["versions"]) == [first]
    assert _stray_temp_files(artifacts) == []
    # space is back: the same process registers the version
    monkeypatch.setattr(mf.json, "dump", real_dump)
    second = _register(artifacts, "v2")
    mf.clear_cache()
    node = mf.model_node(mf.read_manifest(artifacts), "BTC", "naive")
    assert node["aliases"]["champion"] == second and set(node["versions"]) == {first, second}
