"""Walk-forward backtest: no look-ahead, leakage is flagged, auto picks only proven skill."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecasts.engine import MODEL_TYPES, ArtifactSpec, EngineError, Forecaster
from forecasts.engine.backtest import BacktestConfig, evaluate_model, run_backtest, walk_forward

from .conftest import make_ohlcv

SEEN: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []


class SpyForecaster(Forecaster):
    """Records the last day of every history it is given (fit and predict)."""

    name = "spy"

    def fit(self, history: pd.DataFrame, horizons: Sequence[int]) -> SpyForecaster:
        self._start_fit(history, horizons)
        SEEN.append(("fit", history.index[-1], history.index[-1]))
        return self

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        SEEN.append(("predict", history.index[-1], history.index[-1]))
        return dict.fromkeys(self.horizons, 0.0)

    def save(self, directory: Path) -> ArtifactSpec:  # pragma: no cover - not used
        raise NotImplementedError

    @classmethod
    def load(cls, directory: Path, spec: ArtifactSpec) -> SpyForecaster:  # pragma: no cover
        raise NotImplementedError


FULL: dict[str, pd.DataFrame] = {}


class CheatForecaster(SpyForecaster):
    """Peeks at the future through a global: exactly what the harness must expose."""

    name = "cheat"

    def predict(self, history: pd.DataFrame) -> dict[int, float]:
        lc = np.log(FULL["X"]["close"])
        i = lc.index.get_loc(history.index[-1])
        return {h: float(lc.iloc[min(i + h, len(lc) - 1)] - lc.iloc[i]) for h in self.horizons}


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(MODEL_TYPES, "spy", SpyForecaster)
    monkeypatch.setitem(MODEL_TYPES, "cheat", CheatForecaster)
    SEEN.clear()


def test_walk_forward_never_shows_a_model_data_after_its_origin(registered):
    frame = make_ohlcv(120)
    origins = list(frame.index[60:100])
    preds = walk_forward(frame, "spy", [1, 7], origins, refit_every=7)
    fits = [day for kind, day, _ in SEEN if kind == "fit"]
    predicts = [day for kind, day, _ in SEEN if kind == "predict"]
    assert predicts == origins  # one prediction per origin, from data up to that origin
    assert fits == origins[::7]  # refit on the schedule, on data up to the block's first origin
    assert len(preds) == 2 * len(origins)


def test_a_cheating_model_is_caught_by_the_leakage_warning(registered):
    frame = make_ohlcv(300, seed=4)
    FULL["X"] = frame
    config = BacktestConfig(
        test_start=str(frame.index[220].date()),
        warmup_days=30,
        refit_every=10,
        auto_candidates=("naive",),
    )
    result = run_backtest({"X": frame}, ["naive", "cheat"], config)
    cheat = [m for m in result.metrics if m["model"] == "cheat" and m["symbol"] == "X"]
    assert all(m["leakage_warning"] for m in cheat)
    assert any("LEAKAGE" in w and "cheat" in w for w in result.warnings)
    honest = [m for m in result.metrics if m["model"] == "naive"]
    assert not any(m["leakage_warning"] for m in honest)


def test_report_shape_targets_and_intervals():
    frame = make_ohlcv(260, seed=2)
    config = BacktestConfig(test_start=str(frame.index[220].date()), warmup_days=60)
    result = run_backtest({"X": frame}, ["naive", "drift"], config)
    report = result.to_report()
    fc = pd.DataFrame(report["forecasts"])
    assert set(fc["model"]) == {"naive", "drift"}
    first = fc[(fc["model"] == "drift") & (fc["horizon"] == 7)].iloc[0]
    assert first["origin"] == str(frame.index[220].date())
    assert pd.Timestamp(first["target"]) - pd.Timestamp(first["origin"]) == pd.Timedelta(days=7)
    actual = frame["close"].loc[pd.Timestamp(first["target"], tz="UTC")]
    assert first["actual"] == pytest.approx(actual)
    for lv in ("80", "90", "95"):
        assert first["lower"][lv] < first["point"] < first["upper"][lv]
    assert first["lower"]["95"] < first["lower"]["80"]
    assert fc["origin"].min() >= str(frame.index[220].date())  # warm-up is not reported
    keys = {"symbol", "model", "horizon", "n", "rel_mae", "mase", "coverage_90", "dm_p_value"}
    assert keys <= set(report["metrics"][0])
    assert any(m["symbol"] == "ALL" for m in report["metrics"])


def test_auto_falls_back_to_naive_on_a_random_walk():
    frame = make_ohlcv(330, seed=5)
    config = BacktestConfig(
        test_start=str(frame.index[300].date()),
        warmup_days=150,
        auto_window=90,
        auto_candidates=("naive", "drift"),
    )
    result = run_backtest({"X": frame}, ["auto"], config)
    chosen = {f["chosen"] for f in result.forecasts}
    assert chosen == {"naive"}


def test_auto_picks_a_model_with_proven_skill_before_the_origin():
    # a strong, steady trend: drift beats the random walk, significantly
    frame = make_ohlcv(330, seed=6, drift=0.01, vol=0.004)
    config = BacktestConfig(
        test_start=str(frame.index[300].date()),
        warmup_days=150,
        auto_window=90,
        auto_candidates=("naive", "drift"),
    )
    result = run_backtest({"X": frame}, ["auto", "naive"], config)
    auto = [f for f in result.forecasts if f["model"] == "auto"]
    assert {f["chosen"] for f in auto} == {"drift"}


def test_test_start_outside_the_data_is_a_readable_error():
    frame = make_ohlcv(100)
    with pytest.raises(EngineError, match="outside the data"):
        run_backtest({"X": frame}, ["naive"], BacktestConfig(test_start="2030-01-01"))
    with pytest.raises(EngineError, match="unknown model"):
        run_backtest({"X": frame}, ["oracle"], BacktestConfig(test_start="2022-03-01"))


def test_evaluate_model_gives_skill_and_a_calibrator_for_serving():
    frame = make_ohlcv(300, seed=7)
    ev = evaluate_model(frame, "drift", (1, 7), test_days=60, warmup_days=60)
    assert set(ev.skill) == {1, 7}
    assert {"mase", "rel_mae", "coverage_90", "n"} <= set(ev.skill[7])
    lo, hi = ev.calibrators[1].interval(0.0, 0.02, 1)[90]
    assert lo < 0 < hi
    assert set(ev.calibration()) == {"1", "7"}
