"""Health probe: is the manifest readable, how many versions, how old is the newest."""

from __future__ import annotations

from typing import Any

from mlserving import manifest as mf


def manifest_probe() -> dict[str, Any]:
    try:
        data = mf.read_manifest()
    except Exception as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    versions = list(mf.iter_versions(data))
    if not versions:  # a readable but empty manifest serves nothing: not fine
        return {
            "ok": False,
            "keys": len(data.get("keys", {})),
            "versions": 0,
            "updated_at": data.get("updated_at"),
            "reason": "the model manifest holds no model (train_models, then build_manifest)",
        }
    return {
        "ok": True,
        "keys": len(data.get("keys", {})),
        "versions": len(versions),
        "updated_at": data.get("updated_at"),
    }
