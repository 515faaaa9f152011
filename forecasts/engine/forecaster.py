"""The ``Forecaster`` interface every model implements, its ``ArtifactSpec``, ``EngineError``
and the frame conventions they share (``validate_ohlcv``, log-return targets and prices).

Conventions (shared by every model, the backtest, the trainer and the server):

* ``history`` is a daily OHLCV ``DataFrame`` indexed by UTC timestamps (ascending, one row per
  day) with float columns ``open, high, low, close, volume`` and optionally ``sentiment``.
  The last row is the forecast *origin*: its close is the last observed price.
* A prediction is a **log-return** per horizon: ``log(close[t+h]) - log(close[t])`` with ``t``
  the last row of ``history``. Convert to prices with :func:`returns_to_prices`.
* ``save(directory)`` writes only safe formats (JSON, LightGBM text, ONNX, ``.keras``) and
  returns an :class:`ArtifactSpec`; ``Forecaster.load(directory, spec)`` rebuilds a predictor
  from those files without importing TensorFlow.
"""

from __future__ import annotations

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

OHLCV_COLUMNS = ("open", "high", "low", "close", "volume")
SPEC_FILE = "spec.json"


class EngineError(ValueError):
    """Bad input to the forecasting engine (readable message, safe to show to a user)."""


@dataclass
class ArtifactSpec:
    """What :meth:`Forecaster.save` wrote, enough for :func:`load_forecaster` to rebuild it.

    ``files`` are names relative to the save directory, mapped to their role (``model``,
    ``onnx``, ``keras``, ``feature_scaler``, ``target_scaler``, ``booster_h7`` ...).
    ``scaler_files`` is the subset of ``files`` that are preprocessing (RobustScaler params as
    JSON). ``params`` holds the model's hyper-parameters and, for models that cannot be
    serialised safely (ARIMA/ETS), the fitted configuration that is refitted at load time.
    """

    model_type: str
    format: str
    horizons: list[int]
    files: dict[str, str] = field(default_factory=dict)
    feature_names: list[str] = field(default_factory=list)
    scaler_files: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    training_window: dict[str, str] = field(default_factory=dict)
    library_versions: dict[str, str] = field(default_factory=dict)
    refit_on_load: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArtifactSpec:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    def write(self, directory: Path) -> Path:
        """Write the spec itself as ``spec.json`` (also listed in nothing: it *is* the index)."""
        path = Path(directory) / SPEC_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True, default=_json_default))
        return path

    @classmethod
    def read(cls, directory: Path) -> ArtifactSpec:
        return cls.from_dict(json.loads((Path(directory) / SPEC_FILE).read_text()))


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: Path, data: Any) -> None:
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True, default=_json_default))


def read_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


class Forecaster(ABC):
    """Common interface of every model type (``naive`` ... ``ensemble``).

    Usage::

        model = get_forecaster("lightgbm").fit(history, horizons=[1, 7])
        model.predict(history)            # {1: 0.0012, 7: -0.004}  (log-returns)
        spec = model.save(Path("dir"))    # safe files + ArtifactSpec
        same = load_forecaster(Path("dir"), spec)   # no TensorFlow import

    ``fit`` may be called on a long history; ``predict`` may then be called with a *longer*
    history (same series, more days) without refitting: it forecasts from the last row.
    """

    name: ClassVar[str] = ""
    #: smallest number of daily rows ``fit`` accepts
    min_history: ClassVar[int] = 2

    def __init__(self, **params: Any) -> None:
        self.params: dict[str, Any] = dict(params)
        self.horizons: list[int] = []
        self.training_window: dict[str, str] = {}

    # -- contract -------------------------------------------------------------------------
    @abstractmethod
    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> Forecaster:
        """Fit on ``history`` (data up to its last row only) for the given horizons (days)."""

    @abstractmethod
    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        """Predicted log-return from the last close of ``history`` to the close ``h`` days on."""

    @abstractmethod
    def save(self, directory: Path) -> ArtifactSpec:
        """Write safe artifact files into ``directory`` (created) and return their spec."""

    @classmethod
    @abstractmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> Forecaster:
        """Rebuild a predictor from files written by :meth:`save` (never imports TensorFlow)."""

    def predict_path(
        self, history: pd.DataFrame, origins: Sequence[pd.Timestamp]
    ) -> dict[pd.Timestamp, dict[int, float]]:
        """Predictions at several origins, each from ``history`` truncated at that origin.

        Used by the walk-forward backtest between refits. Models whose features are causal
        (verified by the leakage test) override it to compute features once and predict in a
        batch; the result must equal calling :meth:`predict` on each truncated history.
        """
        return {o: self.predict(history.loc[:o]) for o in origins}

    # -- helpers --------------------------------------------------------------------------
    def _start_fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> pd.DataFrame:
        history = validate_ohlcv(history)
        hs = sorted({int(h) for h in horizons})
        if not hs or hs[0] < 1:
            raise EngineError("horizons must be positive integers (days)")
        if len(history) < self.min_history:
            raise EngineError(
                f"{self.name}: needs at least {self.min_history} daily rows, got {len(history)}"
            )
        self.horizons = hs
        self.training_window = {
            "start": history.index[0].isoformat(),
            "end": history.index[-1].isoformat(),
            "rows": str(len(history)),
        }
        return history

    def _check_fitted(self) -> None:
        if not self.horizons:
            raise EngineError(f"{self.name}: call fit() before predict()")

    def _spec(self, fmt: str, **kwargs: Any) -> ArtifactSpec:
        return ArtifactSpec(
            model_type=self.name,
            format=fmt,
            horizons=list(self.horizons),
            training_window=dict(self.training_window),
            library_versions=library_versions(),
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


def validate_ohlcv(frame: pd.DataFrame) -> pd.DataFrame:
    """Check the daily OHLCV frame contract; returns it (float columns, sorted UTC index)."""
    if not isinstance(frame, pd.DataFrame):
        raise EngineError("history must be a pandas DataFrame")
    missing = [c for c in ("close",) if c not in frame.columns]
    if missing:
        raise EngineError(f"history is missing columns: {', '.join(missing)}")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise EngineError("history must be indexed by timestamps")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise EngineError("history index must be strictly increasing")
    if frame["close"].isna().any() or (frame["close"] <= 0).any():
        raise EngineError("history has missing or non-positive closes")
    return frame


def log_return_targets(close: pd.Series, horizons: Sequence[int]) -> pd.DataFrame:
    """``y_h[t] = log(close[t+h]) - log(close[t])`` per horizon (NaN where t+h is unknown)."""
    lc = np.log(close.astype(float))
    return pd.DataFrame({h: lc.shift(-h) - lc for h in horizons}, index=close.index)


def returns_to_prices(last_close: float, log_returns: Mapping[int, float]) -> dict[int, float]:
    """Convert predicted log-returns (per horizon) to prices from the origin close."""
    return {int(h): float(last_close) * math.exp(float(r)) for h, r in log_returns.items()}


def library_versions() -> dict[str, str]:
    """Versions of the libraries an artifact depends on (no heavy imports)."""
    out: dict[str, str] = {}
    for dist in ("numpy", "pandas", "lightgbm", "statsforecast", "onnxruntime", "keras", "ta"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:  # pragma: no cover
            continue
    return out
