from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlserving import loading, services
from mlserving import manifest as mf


@pytest.fixture
def artifacts(tmp_path, settings) -> Path:
    """A private artifacts root per test, with every cache cleared."""
    root = tmp_path / "artifacts"
    root.mkdir()
    settings.MODEL_ARTIFACTS_DIR = root
    mf.clear_cache()
    loading.clear_cache()
    yield root
    mf.clear_cache()
    loading.clear_cache()


def make_version(
    root: Path,
    *,
    key: str = "K",
    model: str = "m",
    alias: str | None = "challenger",
    skill: float | None = 0.9,
    payload: str = "weights",
    created_at: str | None = None,
) -> str:
    """Register a tiny version holding one JSON file."""
    with services.staging_folder(root=root) as stage:
        (stage / "model.json").write_text(json.dumps({"payload": payload}))
        meta = {"format": "json", "metrics": {"skill_score": skill} if skill is not None else {}}
        if created_at:
            meta["created_at"] = created_at
        return services.register_version(key=key, model=model, source=stage, meta=meta, alias=alias)


def json_loader(folder: Path, entry: dict) -> dict:
    return json.loads((folder / "model.json").read_text())
