from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import structlog

from mlserving import loading
from mlserving import manifest as mf

from .conftest import json_loader, make_version


def test_alias_and_version_resolve_to_the_same_folder(artifacts):
    version = make_version(artifacts, alias="champion")
    by_alias = loading.resolve("m@champion", key="K")
    by_version = loading.resolve(f"m@{version}", key="K")
    bare = loading.resolve("m", key="K")
    assert by_alias.version == by_version.version == bare.version == version
    assert by_alias.alias == "champion" and by_version.alias is None


def test_unknown_alias_or_model_is_not_found(artifacts):
    make_version(artifacts, alias="champion")
    with pytest.raises(loading.ArtifactNotFound):
        loading.resolve("m@challenger", key="K")
    with pytest.raises(loading.ArtifactNotFound):
        loading.resolve("other@champion", key="K")
    with pytest.raises(loading.ArtifactNotFound):
        loading.resolve("m@champion", key="NOPE")


def test_load_verifies_then_deserialises(artifacts):
    make_version(artifacts, alias="champion", payload="w1")
    loaded = loading.load("m@champion", key="K", loader=json_loader)
    assert loaded.obj == {"payload": "w1"}


def test_tampered_artifact_is_refused_loudly_before_deserialising(artifacts):
    version = make_version(artifacts, alias="champion")
    (artifacts / "K" / "m" / version / "model.json").write_text('{"payload": "evil"}')
    called = []
    with structlog.testing.capture_logs() as logs, pytest.raises(loading.ArtifactIntegrityError):
        loading.load("m@champion", key="K", loader=lambda f, e: called.append(1))
    assert called == []
    assert any(
        e["event"] == "mlserving.artifact_refused" and e["log_level"] == "error" for e in logs
    )


def test_tampering_after_a_cached_load_is_still_caught(artifacts):
    version = make_version(artifacts, alias="champion")
    loading.load("m@champion", key="K", loader=json_loader)
    (artifacts / "K" / "m" / version / "model.json").write_text('{"payload": "evil!"}')
    with pytest.raises(loading.ArtifactIntegrityError):
        loading.load("m@champion", key="K", loader=json_loader)


def test_missing_artifact_falls_back_to_the_next_model_with_a_label(artifacts):
    broken = make_version(artifacts, model="lightgbm", alias="champion")
    make_version(artifacts, model="naive", alias="champion", payload="naive")
    (artifacts / "K" / "lightgbm" / broken / "model.json").unlink()
    served = loading.load_first(
        ["lightgbm@champion", "naive@champion"], key="K", loader=json_loader
    )
    assert served.obj == {"payload": "naive"}
    assert served.served == "naive@champion"
    assert served.fallback_label == "lightgbm@champion refused (missing); served naive@champion"


def test_expired_model_is_not_served_and_falls_back_labelled(artifacts, settings):
    settings.MODEL_MAX_AGE_DAYS = 30
    old = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    make_version(artifacts, model="lightgbm", alias="champion", created_at=old)
    make_version(artifacts, model="naive", alias="champion", payload="naive")
    with pytest.raises(loading.ArtifactExpired):
        loading.load("lightgbm@champion", key="K", loader=json_loader)
    served = loading.load_first(
        ["lightgbm@champion", "naive@champion"], key="K", loader=json_loader
    )
    assert served.served == "naive@champion"
    assert "lightgbm@champion refused (expired)" in served.fallback_label


def test_nothing_servable_is_reported_not_raised(artifacts):
    served = loading.load_first(["a@champion", "b@champion"], key="K", loader=json_loader)
    assert served.obj is None and served.served is None
    assert served.fallback_label.endswith("served nothing")


def test_a_manifest_path_outside_the_root_is_refused(artifacts):
    version = make_version(artifacts, alias="champion")
    mf.update_manifest(
        lambda d: d["keys"]["K"]["models"]["m"]["versions"][version].__setitem__(
            "path", "../../etc"
        )
    )
    with pytest.raises(loading.ArtifactIntegrityError):
        loading.resolve("m@champion", key="K")


def test_skops_refuses_types_outside_the_allowlist(tmp_path):
    import skops.io as sio
    from sklearn.preprocessing import RobustScaler
    from sklearn.tree import DecisionTreeRegressor

    ok = tmp_path / "scaler.skops"
    sio.dump(RobustScaler().fit([[1.0], [2.0], [4.0]]), ok)
    assert loading.load_skops(ok).center_[0] == 2.0
    bad = tmp_path / "tree.skops"
    sio.dump(DecisionTreeRegressor().fit([[1.0], [2.0]], [1.0, 2.0]), bad)
    with pytest.raises(loading.ArtifactLoadError, match="allowlist"):
        loading.load_skops(bad)
