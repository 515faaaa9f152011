"""RobustScaler parameters as plain JSON (no pickle): fitted by scikit-learn, applied by numpy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .forecaster import read_json, write_json


@dataclass
class RobustScalerParams:
    """``(x - center) / scale`` per column, as scikit-learn's ``RobustScaler`` (IQR 25-75)."""

    center: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> RobustScalerParams:
        # deferred: scikit-learn only where scalers are fitted (training), never to apply them
        from sklearn.preprocessing import RobustScaler

        scaler = RobustScaler().fit(np.asarray(x, dtype=np.float64))
        return cls(center=np.asarray(scaler.center_), scale=np.asarray(scaler.scale_))

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.center) / self.scale

    def inverse_transform(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) * self.scale + self.center

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "RobustScaler",
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
        }

    def save(self, path: Path) -> None:
        write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: Path) -> RobustScalerParams:
        data = read_json(path)
        if data.get("kind") != "RobustScaler":
            raise ValueError(f"{path}: not a RobustScaler parameter file")
        return cls(
            center=np.asarray(data["center"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
        )
