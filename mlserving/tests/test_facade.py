"""What other apps see of mlserving: selectors and services handing out frozen contracts."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from mlserving import selectors, services
from mlserving.contracts import ArtifactExpired, ArtifactNotFound, ModelVersion
from mlserving.manifest import ManifestError

from .conftest import json_loader, make_version


def test_versions_and_aliases_are_frozen_views_of_the_manifest(artifacts):
    old = make_version(artifacts, alias="champion", skill=0.9, created_at="2026-01-01T00:00:00")
    new = make_version(artifacts, alias="challenger", skill=0.8)
    (registered,) = selectors.registered_models(key="K")
    assert (registered.key, registered.model) == ("K", "m")
    assert registered.aliases == {"champion": old, "challenger": new}
    assert [v.version for v in registered.versions] == sorted([old, new])
    champion = selectors.champion(key="K", model="m")
    assert champion == registered.champion and champion.version == old
    assert champion.aliases == ("champion",) and champion.skill_score == 0.9
    assert champion.created_at == datetime(2026, 1, 1, tzinfo=UTC)  # naive means UTC
    assert champion.path == f"K/m/{old}" and len(champion.sha256) == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        champion.version = "other"  # type: ignore[misc]
    assert selectors.registered_keys() == ["K"]
    assert selectors.champion(key="K", model="nope") is None
    assert selectors.registered_model(key="NOPE", model="m") is None


def test_version_get_reads_fresh_and_says_none_when_not_registered(artifacts):
    version = make_version(artifacts)
    found = selectors.version_get(key="K", model="m", version=version)
    assert isinstance(found, ModelVersion) and found.version == version
    assert selectors.version_get(key="K", model="m", version="v-nope") is None


def test_version_resolve_refuses_missing_and_expired_versions(artifacts, settings):
    make_version(artifacts, alias="champion")
    assert selectors.version_resolve(key="K", ref="m@champion").model == "m"
    with pytest.raises(ArtifactNotFound):
        selectors.version_resolve(key="K", ref="m@challenger")
    settings.MODEL_MAX_AGE_DAYS = 10
    assert selectors.max_age_days() == 10
    with pytest.raises(ArtifactExpired):
        selectors.version_resolve(
            key="K", ref="m@champion", now=datetime.now(UTC) + timedelta(days=11)
        )


def test_the_manifest_signature_changes_with_every_write(artifacts):
    assert selectors.manifest_signature() == "none"
    make_version(artifacts)
    first = selectors.manifest_signature()
    make_version(artifacts, alias="champion")
    assert selectors.manifest_signature() not in ("none", first)
    assert selectors.manifest_updated_at()


def test_load_first_hands_out_the_servable_and_its_version(artifacts):
    version = make_version(artifacts, model="b", alias="champion", payload="w")
    served = services.load_first(["a@champion", "b@champion"], key="K", loader=json_loader)
    assert served.servable is not None and served.servable.obj == {"payload": "w"}
    assert served.servable.version.version == version and served.served == "b@champion"
    assert served.fallback_label == "a@champion refused (missing); served b@champion"
    nothing = services.load_first(["a@champion"], key="K", loader=json_loader)
    assert nothing.servable is None and nothing.failures == (("a@champion", "missing"),)


def test_preprocessing_files_are_written_whole_and_registered(artifacts):
    files = services.preprocessing_write(
        key="K", files={"feature_names.json": ["ret_1", "vol_7"], "scaler.json": {"kind": "x"}}
    )
    folder = artifacts / "preprocessing" / "K"
    assert json.loads((folder / "feature_names.json").read_text()) == ["ret_1", "vol_7"]
    assert set(files) == {"preprocessing/K/feature_names.json", "preprocessing/K/scaler.json"}
    assert not list(folder.glob("*.tmp"))
    assert selectors.registered_keys() == ["K"]
    with pytest.raises(ManifestError, match="invalid file name"):
        services.preprocessing_write(key="K", files={"../escape.json": {}})
