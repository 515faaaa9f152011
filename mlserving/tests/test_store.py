"""The object-store artifact backend against moto's S3 server on 127.0.0.1 (never the internet).

A trainer (one working copy) registers an ONNX model into ``s3://models/cc``; a web process
on "another machine" (a fresh, empty working copy, every cache cleared) reads the manifest
from the store, downloads the files, verifies their sha256 and serves the model; an object
changed in the bucket behind the manifest's back is refused.
"""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest

from mlserving import loading, services
from mlserving import manifest as mf
from mlserving import store as st

BUCKET = "models"
CREDENTIALS = {"key": "testing", "secret": "testing"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, settings, tmp_path):
    """A fresh bucket, the settings pointing at it, and raw boto3 access for the test."""
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    client.create_bucket(Bucket=BUCKET)
    settings.MODEL_ARTIFACTS_URL = f"s3://{BUCKET}/cc"
    settings.MODEL_ARTIFACTS_S3_ENDPOINT_URL = s3_endpoint
    settings.MODEL_ARTIFACTS_S3_REGION = "us-east-1"
    settings.MODEL_ARTIFACTS_S3_ACCESS_KEY_ID = CREDENTIALS["key"]
    settings.MODEL_ARTIFACTS_S3_SECRET_ACCESS_KEY = CREDENTIALS["secret"]
    settings.MODEL_ARTIFACTS_POLL_SECONDS = 0  # re-check the ETag on every read
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _machine(settings, root: Path) -> Path:
    """Switch this process to another machine's working copy (empty, caches cleared)."""
    root.mkdir(parents=True, exist_ok=True)
    settings.MODEL_ARTIFACTS_DIR = root
    mf.clear_cache()
    loading.clear_cache()
    return root


def _onnx_model(path: Path) -> None:
    """y = x + 1 as a one-node ONNX graph (what the neural models serve through)."""
    from onnx import TensorProto, helper, save

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])
    one = helper.make_tensor("one", TensorProto.FLOAT, [1, 1], [1.0])
    graph = helper.make_graph([helper.make_node("Add", ["x", "one"], ["y"])], "g", [x], [y], [one])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    save(model, str(path))


def _train(settings, tmp_path) -> str:
    _machine(settings, tmp_path / "trainer")
    with services.staging_folder() as stage:
        _onnx_model(stage / "model.onnx")
        meta = {"format": "onnx", "metrics": {"skill_score": 0.9}}
        return services.register_version(
            key="BTC", model="lstm", source=stage, meta=meta, alias="champion"
        )


def _onnx_loader(folder: Path, entry: dict):
    import onnxruntime as ort

    return ort.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])


def _predict(session) -> float:
    return float(session.run(None, {"x": np.array([[2.0]], dtype=np.float32)})[0][0][0])


@pytest.mark.django_db
def test_a_trainer_writes_and_a_fresh_reader_verifies_and_serves(s3, settings, tmp_path):
    version = _train(settings, tmp_path)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {
        "cc/manifest.json",
        f"cc/BTC/lstm/{version}/model.onnx",
        f"cc/BTC/lstm/{version}/version.json",
    }

    web = _machine(settings, tmp_path / "web")  # nothing on this machine's disk
    assert not any(web.iterdir())
    served = loading.load_first(
        ["lstm@champion"], key="BTC", loader=_onnx_loader, loader_name="onnx"
    )
    assert served.failures == () and served.artifact is not None
    assert served.artifact.version == version
    assert _predict(served.obj) == pytest.approx(3.0)
    assert (web / f"BTC/lstm/{version}/model.onnx").is_file()  # downloaded, then verified


@pytest.mark.django_db
def test_a_tampered_object_is_refused_by_a_fresh_reader(s3, settings, tmp_path):
    version = _train(settings, tmp_path)
    other = tmp_path / "other.onnx"
    _onnx_model(other)
    tampered = other.read_bytes().replace(b"\x00\x00\x80?", b"\x00\x00\x00A")  # 1.0 -> 8.0
    assert tampered != other.read_bytes()
    s3.put_object(Bucket=BUCKET, Key=f"cc/BTC/lstm/{version}/model.onnx", Body=tampered)

    _machine(settings, tmp_path / "web")
    with pytest.raises(loading.ArtifactIntegrityError, match="sha256"):
        loading.load("lstm@champion", key="BTC", loader=_onnx_loader, loader_name="onnx")
    served = loading.load_first(["lstm@champion"], key="BTC", loader=_onnx_loader)
    assert served.obj is None and served.failures == (("lstm@champion", "sha256 mismatch"),)


@pytest.mark.django_db
def test_a_stale_local_copy_is_replaced_from_the_store(s3, settings, tmp_path):
    version = _train(settings, tmp_path)
    web = _machine(settings, tmp_path / "web")
    stale = web / f"BTC/lstm/{version}/model.onnx"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left over from a crashed download")
    loaded = loading.load("lstm@champion", key="BTC", loader=_onnx_loader, loader_name="onnx")
    assert _predict(loaded.obj) == pytest.approx(3.0)


@pytest.mark.django_db
def test_readers_see_promotions_written_by_another_machine(s3, settings, tmp_path):
    first = _train(settings, tmp_path)
    _machine(settings, tmp_path / "web")
    assert mf.read_manifest()["keys"]["BTC"]["models"]["lstm"]["aliases"]["champion"] == first

    _machine(settings, tmp_path / "trainer2")
    with services.staging_folder() as stage:
        (stage / "model.onnx").write_bytes(b"second")
        second = services.register_version(
            key="BTC", model="lstm", source=stage, meta={"metrics": {"skill_score": 0.5}}
        )
    assert services.promote(key="BTC", model="lstm").promoted

    _machine(settings, tmp_path / "web")
    node = mf.read_manifest()["keys"]["BTC"]["models"]["lstm"]
    assert set(node["versions"]) == {first, second}  # the second writer kept the first's
    assert node["aliases"] == {"champion": second, "previous_champion": first}
    with services.staging_folder() as stage:
        (stage / "x").write_text("again")
        with pytest.raises(services.RegistryError, match="immutable"):
            services.register_version(
                key="BTC", model="lstm", source=stage, meta={}, version=second
            )


@pytest.mark.django_db
def test_build_manifest_rebuilds_from_the_store_on_an_empty_machine(s3, settings, tmp_path):
    version = _train(settings, tmp_path)
    s3.delete_object(Bucket=BUCKET, Key="cc/manifest.json")
    _machine(settings, tmp_path / "fresh")
    assert mf.read_manifest()["keys"] == {}
    report = services.build_manifest()
    assert report.ok and report.versions == 1
    assert mf.read_manifest()["keys"]["BTC"]["models"]["lstm"]["aliases"]["champion"] == version


def test_a_plain_path_is_not_an_object_store_url(settings):
    settings.MODEL_ARTIFACTS_URL = "/mnt/shared/artifacts"
    with pytest.raises(st.StoreError, match="MODEL_ARTIFACTS_DIR"):
        st.get_store()
