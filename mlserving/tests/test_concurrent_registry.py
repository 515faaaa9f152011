"""The registry under concurrent per-task writers (one training task per key x model)."""

from __future__ import annotations

import json
import threading

import pytest

from mlserving import manifest as mf
from mlserving import services
from mlserving.models import ModelVersion

from .conftest import make_version


def test_concurrent_registrations_of_different_models_all_land_in_the_manifest(artifacts):
    root = artifacts
    errors: list[BaseException] = []

    def register(i: int) -> None:
        try:
            make_version(root, key=f"K{i % 3}", model=f"m{i}")
            services.promote(key=f"K{i % 3}", model=f"m{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    mf.clear_cache()
    data = mf.read_manifest(root)
    found = {(k, m) for k, m, _, _ in mf.iter_versions(data)}
    assert found == {(f"K{i % 3}", f"m{i}") for i in range(9)}
    assert all(
        node["aliases"].get("champion")
        for key in data["keys"].values()
        for node in key["models"].values()
    )
    assert services.build_manifest(root=root).ok


def _stage(root, payload: str = "w"):
    ctx = services.staging_folder(root=root)
    stage = ctx.__enter__()
    (stage / "model.json").write_text(json.dumps({"payload": payload}))
    return ctx, stage


def test_a_fixed_version_left_unregistered_by_a_dead_writer_is_replaced(artifacts):
    # the dead writer moved its folder in but never recorded it in the manifest
    leftover = artifacts / "K" / "m" / "v20260101T000000-r1"
    leftover.mkdir(parents=True)
    (leftover / "model.json").write_text("half written")
    ctx, stage = _stage(artifacts, payload="fresh")
    try:
        version = services.register_version(
            key="K", model="m", source=stage, meta={"format": "json"}, version=leftover.name
        )
    finally:
        ctx.__exit__(None, None, None)
    assert version == leftover.name
    assert json.loads((leftover / "model.json").read_text()) == {"payload": "fresh"}
    assert services.registered_version(key="K", model="m", version=version) is not None
    assert services.build_manifest().ok


def test_a_registered_fixed_version_is_never_overwritten(artifacts):
    version = make_version(artifacts)
    ctx, stage = _stage(artifacts, payload="other")
    try:
        with pytest.raises(services.RegistryError, match="immutable"):
            services.register_version(
                key="K", model="m", source=stage, meta={"format": "json"}, version=version
            )
    finally:
        ctx.__exit__(None, None, None)


def test_unknown_version_is_not_registered(artifacts):
    assert services.registered_version(key="K", model="m", version="v1") is None


@pytest.mark.django_db
def test_a_scoped_mirror_touches_only_its_own_key_and_model(artifacts):
    make_version(artifacts, key="A", model="m")
    make_version(artifacts, key="B", model="m")
    # a row only the table knows (another node), must survive a scoped sync of A/m
    ModelVersion.objects.create(key="C", model="m", version="v0")
    services.sync_registry(key="A", model="m")
    assert ModelVersion.objects.filter(key="C").exists()
    assert set(ModelVersion.objects.values_list("key", flat=True)) == {"A", "B", "C"}
    services.sync_registry()  # a full sync prunes what the manifest does not hold
    assert set(ModelVersion.objects.values_list("key", flat=True)) == {"A", "B"}
