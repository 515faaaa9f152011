from __future__ import annotations

import json
import os
import threading

import pytest

from mlserving import manifest as mf
from mlserving import services

from .conftest import make_version


def test_missing_manifest_reads_as_empty(artifacts):
    assert mf.read_manifest() == mf.empty_manifest()


def test_update_writes_atomically_without_leaving_temp_files(artifacts, monkeypatch):
    mf.update_manifest(lambda d: d["keys"].setdefault("A", {"models": {}}))
    before = (artifacts / "manifest.json").read_text()

    real_dump = json.dump

    def exploding_dump(obj, fh, **kw):
        real_dump({"partial": True}, fh)
        raise OSError("disk full")

    monkeypatch.setattr(mf.json, "dump", exploding_dump)
    with pytest.raises(OSError, match="disk full"):
        mf.update_manifest(lambda d: d["keys"].setdefault("B", {"models": {}}))
    # the old file is intact and no temp file is left behind
    assert (artifacts / "manifest.json").read_text() == before
    assert [p.name for p in artifacts.iterdir() if p.name.endswith(".tmp")] == []


def test_concurrent_writers_do_not_lose_updates(artifacts):
    def add(i: int) -> None:
        mf.update_manifest(lambda d: d["keys"].__setitem__(f"K{i}", {"models": {}}))

    threads = [threading.Thread(target=add, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    mf.clear_cache()
    assert sorted(mf.read_manifest()["keys"]) == sorted(f"K{i}" for i in range(8))


def test_reader_sees_a_rewrite_without_restart(artifacts):
    make_version(artifacts, model="a")
    first = mf.read_manifest()
    assert mf.read_manifest() is first  # unchanged file: cached parse
    make_version(artifacts, model="b")
    second = mf.read_manifest()
    assert second is not first
    assert set(second["keys"]["K"]["models"]) == {"a", "b"}


def test_register_records_hashes_sizes_and_version_file(artifacts):
    version = make_version(artifacts)
    entry = mf.read_manifest()["keys"]["K"]["models"]["m"]["versions"][version]
    folder = artifacts / entry["path"]
    assert entry["files"]["model.json"]["sha256"] == mf.sha256_file(folder / "model.json")
    assert entry["size"] == (folder / "model.json").stat().st_size
    assert entry["sha256"] == mf.files_digest(entry["files"])
    assert json.loads((folder / "version.json").read_text())["sha256"] == entry["sha256"]
    assert entry["code_version"] and entry["created_at"]


@pytest.mark.parametrize("bad", ["../etc", "a/b", "", ".hidden", "x" * 80])
def test_path_like_names_are_refused(bad):
    with pytest.raises(mf.ManifestError):
        mf.check_name(bad, what="key")


def test_build_manifest_rebuilds_from_folders_and_keeps_aliases(artifacts):
    v1 = make_version(artifacts, alias="champion", skill=0.99)
    v2 = make_version(artifacts, alias="challenger", skill=0.95, payload="other")
    os.unlink(artifacts / "manifest.json")
    mf.clear_cache()
    report = services.build_manifest()
    assert report.ok and report.versions == 2
    node = mf.read_manifest()["keys"]["K"]["models"]["m"]
    assert set(node["versions"]) == {v1, v2}
    # no manifest to keep aliases from: champion = best-scored version
    assert node["aliases"] == {"champion": v2}


def test_build_manifest_leaves_out_a_tampered_folder(artifacts):
    v1 = make_version(artifacts, alias="champion")
    (artifacts / "K" / "m" / v1 / "model.json").write_text('{"payload": "evil"}')
    report = services.build_manifest()
    assert not report.ok
    assert report.refused[0][0] == f"K/m/{v1}" and "sha256" in report.refused[0][1]
    assert "K" not in mf.read_manifest()["keys"]
