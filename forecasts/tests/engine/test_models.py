"""Every model type honours the Forecaster contract: fit/predict/save/load, safe files only."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from forecasts.engine import (
    MODEL_TYPES,
    NEURAL_MODELS,
    ArtifactSpec,
    EngineError,
    get_forecaster,
    load_forecaster,
    returns_to_prices,
    save_forecaster,
)

from .conftest import FAST, make_ohlcv

SAFE_SUFFIXES = {".json", ".txt", ".onnx", ".keras"}
CLASSIC = [m for m in MODEL_TYPES if m not in NEURAL_MODELS]
EXACT_AFTER_LOAD = {"naive", "drift", "arima", "lightgbm"}


def _contract(name: str, history: pd.DataFrame, tmp_path: Path) -> None:
    train, later = history.iloc[:-10], history.iloc[:-3]
    model = get_forecaster(name, **FAST[name]).fit(train, [1, 7])
    pred = model.predict(later)
    assert set(pred) == {1, 7}
    assert all(math.isfinite(v) and abs(v) < 1.0 for v in pred.values())

    spec = save_forecaster(model, tmp_path / name)
    assert spec.model_type == name and spec.horizons == [1, 7]
    written = [p for p in (tmp_path / name).rglob("*") if p.is_file()]
    assert {p.suffix for p in written} <= SAFE_SUFFIXES, written  # no pickle, ever
    for rel in spec.files.values():
        assert (tmp_path / name / rel).is_file()
    assert json.loads((tmp_path / name / "spec.json").read_text())["model_type"] == name

    same = load_forecaster(tmp_path / name, ArtifactSpec.read(tmp_path / name))
    again = same.predict(later)
    tol = 1e-9 if name in EXACT_AFTER_LOAD else 5e-3
    for h in (1, 7):
        assert again[h] == pytest.approx(pred[h], abs=tol)


@pytest.mark.parametrize("name", CLASSIC)
def test_model_contract(name, ohlcv, tmp_path):
    _contract(name, ohlcv, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NEURAL_MODELS))
def test_neural_model_contract_and_onnx_matches_keras(name, ohlcv, tmp_path):
    _contract(name, ohlcv, tmp_path)


@pytest.mark.slow
def test_neural_artifact_loads_and_predicts_without_tensorflow(ohlcv, tmp_path):
    """The serving path (onnxruntime) must never import TensorFlow: checked in a clean process."""
    model = get_forecaster("dlinear", **FAST["dlinear"]).fit(ohlcv.iloc[:-5], [1, 7])
    expected = model.predict(ohlcv)
    save_forecaster(model, tmp_path / "nn")
    ohlcv.to_csv(tmp_path / "data.csv", index_label="date")
    code = textwrap.dedent(
        f"""
        import json, sys
        from pathlib import Path
        from forecasts.engine import load_forecaster
        from forecasts.engine.csv_frames import read_ohlcv_csv
        m = load_forecaster(Path({str(tmp_path / "nn")!r}))
        p = m.predict(read_ohlcv_csv(Path({str(tmp_path / "data.csv")!r})))
        bad = sorted(k for k in sys.modules if k.split(".")[0] in ("tensorflow", "keras"))
        print(json.dumps({{"pred": {{str(k): v for k, v in p.items()}}, "bad": bad}}))
        """
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["bad"] == []
    for h in (1, 7):
        assert result["pred"][str(h)] == pytest.approx(expected[h], abs=1e-4)


def test_lightgbm_batch_path_equals_truncated_predictions(ohlcv):
    """predict_path's batch features give what predict() gives on each truncated history."""
    model = get_forecaster("lightgbm", **FAST["lightgbm"]).fit(ohlcv.iloc[:-20], [1, 7])
    origins = list(ohlcv.index[-15:-10])
    path = model.predict_path(ohlcv, origins)
    for o in origins:
        single = model.predict(ohlcv.loc[:o])
        assert path[o] == pytest.approx(single, abs=1e-12)


def test_lightgbm_pooled_is_one_booster_with_the_horizon_as_a_feature(ohlcv, tmp_path):
    params = {**FAST["lightgbm"], "horizon_mode": "pooled"}
    model = get_forecaster("lightgbm", **params).fit(ohlcv.iloc[:-10], [1, 3, 7])
    spec = save_forecaster(model, tmp_path / "pooled")
    assert set(spec.files) == {"booster_pooled", "feature_names"}
    assert model.boosters[0].feature_name()[-1] == "horizon"
    pred = model.predict(ohlcv.iloc[:-3])
    assert len(set(pred.values())) == 3  # the horizon feature does move the prediction
    same = load_forecaster(tmp_path / "pooled", ArtifactSpec.read(tmp_path / "pooled"))
    assert same.predict(ohlcv.iloc[:-3]) == pytest.approx(pred, abs=1e-12)
    origins = list(ohlcv.index[-8:-5])
    path = same.predict_path(ohlcv, origins)
    for o in origins:
        assert path[o] == pytest.approx(same.predict(ohlcv.loc[:o]), abs=1e-12)
    with pytest.raises(EngineError, match="horizon_mode"):
        get_forecaster("lightgbm", horizon_mode="stacked")


def test_ensemble_weights_are_visible_and_non_negative(ohlcv, tmp_path):
    model = get_forecaster("ensemble", **FAST["ensemble"]).fit(ohlcv, [1, 7])
    spec = model.save(tmp_path / "ens")
    weights = spec.params["weights"]
    assert set(weights) == {"1", "7"}
    assert set(weights["1"]) == {"drift", "ets", "lightgbm"}
    assert all(w >= 0 for per_h in weights.values() for w in per_h.values())
    assert json.loads((tmp_path / "ens" / "weights.json").read_text()) == weights


def test_stats_models_declare_refit_on_load(ohlcv, tmp_path):
    spec = get_forecaster("arima", **FAST["arima"]).fit(ohlcv, [1]).save(tmp_path / "a")
    assert spec.refit_on_load is True
    assert "order" in spec.params["fitted"] and "coef" in spec.params["fitted"]


def test_unknown_model_and_short_history_are_readable_errors():
    with pytest.raises(EngineError, match="unknown model 'prophet'"):
        get_forecaster("prophet")
    with pytest.raises(EngineError, match="at least"):
        get_forecaster("lightgbm").fit(make_ohlcv(50), [1])
    with pytest.raises(EngineError, match="horizons"):
        get_forecaster("naive").fit(make_ohlcv(50), [0])


def test_returns_to_prices():
    prices = returns_to_prices(100.0, {1: 0.0, 7: math.log(1.1)})
    assert prices == {1: pytest.approx(100.0), 7: pytest.approx(110.0)}
