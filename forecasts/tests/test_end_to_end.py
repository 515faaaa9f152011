"""train_models + build_manifest + generate_forecasts -> /api/v1/forecasts, every model type.

Tiny synthetic data, fast settings and one epoch for the neural nets: this checks the
plumbing (safe formats, hashes, ONNX serving, intervals, skill beside naive), not accuracy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from django.core.management import call_command

from forecasts import services
from forecasts.catalogue import MODEL_TYPES

from .conftest import train_fast

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_every_model_type_trains_serves_and_answers_the_api(api_client, coins, artifacts):
    report = train_fast("BTC", ",".join(MODEL_TYPES), horizons=2)
    assert report.failures == []
    assert sorted(r.model for r in report.results) == sorted(MODEL_TYPES)
    built = services.build_manifest()
    assert built.ok and built.versions == len(MODEL_TYPES)
    gen = services.generate_forecasts(symbols="BTC", models=[*MODEL_TYPES, "auto"], days=2)
    assert gen.fallbacks == []
    for model in [*MODEL_TYPES, "auto"]:
        r = api_client.get("/api/v1/forecasts", {"ids": "bitcoin", "model": model, "days": 2})
        assert r.status_code == 200, model
        coin = r.json()["data"][0]
        assert coin["fallback"] is None, (model, coin["fallback"])
        if model != "auto":
            assert coin["model"] == model
        assert coin["naive_skill"]["rel_mae"] == 1.0
        assert coin["skill"]["horizons"] == 2
        for p in coin["points"]:
            assert p["lower"]["95"] <= p["point"] <= p["upper"]["95"], model
    # the neural nets were stored as ONNX (+ .keras for retraining) and served through ORT
    lstm_dir = next((artifacts / "BTC" / "lstm").iterdir())
    assert {"model.onnx", "model.keras", "calibration.json", "spec.json"} <= {
        p.name for p in lstm_dir.iterdir()
    }


def test_serving_path_never_imports_tensorflow(coins, artifacts, tmp_path):
    """Load and predict an ONNX neural net in a fresh interpreter: TensorFlow stays out."""
    train_fast("BTC", "naive,dlinear", horizons=2)
    from forecasts.engine import ArtifactSpec
    from markets import selectors as market_selectors
    from mlserving import selectors as ml_selectors

    history = market_selectors.candle_frame(asset="bitcoin")
    csv = tmp_path / "history.csv"
    history.to_csv(csv)
    folder = artifacts / ml_selectors.champion(key="BTC", model="dlinear").path
    assert ArtifactSpec.read(folder).format == "onnx"
    script = textwrap.dedent(
        f"""
        import json, os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
        import django
        django.setup()
        import pandas as pd
        from forecasts.engine import load_forecaster
        from forecasts.services.calibration import Calibration
        history = pd.read_csv({str(csv)!r}, index_col=0, parse_dates=True)
        model = load_forecaster({str(folder)!r})
        out = model.predict(history)
        Calibration.read({str(folder / "calibration.json")!r})
        print(json.dumps({{"tf": "tensorflow" in sys.modules, "keras": "keras" in sys.modules,
                           "horizons": sorted(out)}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"tf": False, "keras": False, "horizons": [1, 2]}


def test_commands_run_end_to_end_and_refuse_a_tampered_artifact(coins, artifacts, capsys):
    call_command("train_models", symbols="BTC", models="naive,drift", horizons=2, eval_days=30)
    call_command("build_manifest")
    call_command("generate_forecasts", symbols="BTC", models="drift,auto", days=2)
    out = capsys.readouterr().out
    assert "version(s) registered" in out and "forecast row(s) issued" in out
    drift = next((artifacts / "BTC" / "drift").iterdir())
    (drift / "params.json").write_text('{"model_type": "drift", "window": 1}')
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="1 artifact version"):
        call_command("build_manifest")
    assert "REFUSED BTC/drift/" in capsys.readouterr().err
