"""Statistical models from statsforecast: ``arima`` (AutoARIMA) and ``ets`` (AutoETS).

Both model the log close. statsforecast's fitted objects cannot be stored in a safe format, so
``save`` writes their *fitted configuration* as JSON and ``load`` refits on the history it is
given at prediction time (``refit_on_load=True`` in the spec):

* ``arima``: the selected order and the estimated coefficients; on load the ARIMA is refitted
  with those coefficients **fixed** (only the state is filtered, nothing is re-estimated), so a
  loaded model forecasts like the saved one.
* ``ets``: the selected ETS structure (e.g. ``ANN``, ``AAdN``); on load its smoothing parameters
  are re-estimated on the given history (cheap: milliseconds).

Between refits ``predict`` applies the fitted model to the newer history with ``forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..forecaster import ArtifactSpec, EngineError, Forecaster, write_json


def _log_close(history: pd.DataFrame, max_train: int) -> np.ndarray:
    y = np.log(history["close"].to_numpy(dtype=float))
    return y[-max_train:] if max_train else y


class _StatsForecaster(Forecaster):
    min_history = 30

    def __init__(self, max_train: int = 730, season_length: int = 1, **params: Any) -> None:
        super().__init__(max_train=int(max_train), season_length=int(season_length), **params)
        self._model: Any = None
        self._fitted_config: dict[str, Any] = {}

    def _build_auto(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _config_of(self, model: Any) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _build_from_config(self, config: dict[str, Any]) -> Any:  # pragma: no cover
        raise NotImplementedError

    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> _StatsForecaster:
        history = self._start_fit(history, horizons)
        y = _log_close(history, self.params["max_train"])
        self._model = self._build_auto().fit(y)
        self._fitted_config = self._config_of(self._model)
        return self

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        self._check_fitted()
        y = _log_close(history, self.params["max_train"])
        if self._model is None:  # loaded from an artifact: refit with the stored config
            self._model = self._build_from_config(self._fitted_config).fit(y)
        hmax = max(self.horizons)
        try:
            mean = np.asarray(self._model.forward(y=y, h=hmax)["mean"], dtype=float)
        except Exception:  # numerical failure on odd data: refit with the same config
            mean = np.asarray(
                self._build_from_config(self._fitted_config).fit(y).predict(h=hmax)["mean"],
                dtype=float,
            )
        if not np.all(np.isfinite(mean)):
            return dict.fromkeys(self.horizons, 0.0)
        return {h: float(mean[h - 1] - y[-1]) for h in self.horizons}

    def save(self, directory: Path) -> ArtifactSpec:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        write_json(directory / "config.json", self._fitted_config)
        return self._spec(
            "json-config",
            files={"config": "config.json"},
            params={**self.params, "fitted": self._fitted_config},
            refit_on_load=True,
        )

    @classmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> _StatsForecaster:
        params = {k: v for k, v in spec.params.items() if k != "fitted"}
        model = cls(**params)
        model.horizons = list(spec.horizons)
        model.training_window = dict(spec.training_window)
        model._fitted_config = dict(spec.params.get("fitted") or {})
        if not model._fitted_config:
            raise EngineError(f"{cls.name}: artifact has no fitted configuration")
        return model


class ArimaForecaster(_StatsForecaster):
    """AutoARIMA on the log close (last ``max_train`` days), forecasts ``h`` steps ahead."""

    name = "arima"

    def _build_auto(self) -> Any:
        # deferred: statsforecast (numba) only where ARIMA/ETS is fitted or refitted
        from statsforecast.models import AutoARIMA

        return AutoARIMA(season_length=self.params["season_length"])

    def _config_of(self, model: Any) -> dict[str, Any]:
        p, q, sp, sq, s, d, sd = (int(x) for x in model.model_["arma"])
        coef = {str(k): float(v) for k, v in dict(model.model_["coef"]).items()}
        return {
            "order": [p, d, q],
            "seasonal_order": [sp, sd, sq],
            "season_length": s,
            "coef": coef,
        }

    def _build_from_config(self, config: dict[str, Any]) -> Any:
        # deferred: statsforecast (numba) only where ARIMA/ETS is fitted or refitted
        from statsforecast.models import ARIMA

        coef = dict(config.get("coef", {}))
        return ARIMA(
            order=tuple(config["order"]),
            seasonal_order=tuple(config["seasonal_order"]),
            season_length=int(config["season_length"]),
            include_mean="intercept" in coef,
            include_drift="drift" in coef,
            fixed=coef or None,
        )


class EtsForecaster(_StatsForecaster):
    """AutoETS on the log close; the selected structure is stored, parameters refit on load."""

    name = "ets"

    def _build_auto(self) -> Any:
        # deferred: statsforecast (numba) only where ARIMA/ETS is fitted or refitted
        from statsforecast.models import AutoETS

        return AutoETS(season_length=self.params["season_length"])

    def _config_of(self, model: Any) -> dict[str, Any]:
        method = str(model.model_["method"])  # e.g. "ETS(A,Ad,N)"
        inner = method[method.index("(") + 1 : method.index(")")].split(",")
        code = "".join(part.replace("d", "")[0] for part in inner)
        damped = "d" in inner[1] if len(inner) > 1 else False
        return {"model": code, "damped": damped, "method": method}

    def _build_from_config(self, config: dict[str, Any]) -> Any:
        # deferred: statsforecast (numba) only where ARIMA/ETS is fitted or refitted
        from statsforecast.models import AutoETS

        return AutoETS(
            season_length=self.params["season_length"],
            model=str(config["model"]),
            damped=bool(config.get("damped", False)),
        )
