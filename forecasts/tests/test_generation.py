from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forecasts import services
from forecasts.models import Forecast
from forecasts.services.generation import auto_choice
from mlserving import manifest as mf  # only to edit recorded skill (no public write for that)
from mlserving import selectors as ml_selectors
from mlserving.contracts import parse_timestamp

from .conftest import LAST_DAY, train_fast

pytestmark = pytest.mark.django_db


def rows(model: str, symbol: str = "bitcoin") -> list[Forecast]:
    return list(Forecast.objects.filter(asset_id=symbol, requested_model=model).order_by("horizon"))


def test_without_artifacts_the_builtin_random_walk_is_served_and_labelled(coins, artifacts):
    report = services.generate_forecasts(symbols="BTC", models="lightgbm", days=3)
    issued = rows("lightgbm")
    assert report.created == 3 and [r.horizon for r in issued] == [1, 2, 3]
    assert {r.model for r in issued} == {"naive"} and issued[0].model_version == "builtin"
    assert "lightgbm@champion refused (missing)" in issued[0].fallback_reason
    assert issued[0].fallback_reason.endswith("served built-in naive")
    assert issued[0].point == pytest.approx(issued[0].last_close)


def test_trained_models_issue_points_and_nested_intervals(coins, artifacts):
    train_fast("BTC", "naive,lightgbm")
    services.generate_forecasts(symbols="BTC", models="lightgbm", days=3)
    issued = rows("lightgbm")
    assert len(issued) == 3
    for r in issued:
        assert r.model == "lightgbm" and r.fallback_reason == ""
        assert r.target_time == LAST_DAY + timedelta(days=r.horizon)
        assert r.data_until == LAST_DAY
        lo80, hi80 = r.bounds(80)
        lo95, hi95 = r.bounds(95)
        assert lo95 <= lo80 < r.point < hi80 <= hi95
        assert r.bounds(90) is not None
        assert {"rel_mae", "mase", "coverage"} <= set(r.skill)
        assert len(r.features_hash) == 64


def test_generation_is_idempotent_and_never_rewrites_issued_rows(coins, artifacts):
    services.generate_forecasts(symbols="BTC", models="naive", days=2)
    before = [(r.pk, r.point, r.issued_at) for r in rows("naive")]
    report = services.generate_forecasts(symbols="BTC", models="naive", days=2)
    assert report.created == 0 and report.existing == 1
    assert [(r.pk, r.point, r.issued_at) for r in rows("naive")] == before


def test_tampered_artifact_is_refused_and_naive_is_served_labelled(coins, artifacts):
    train_fast("BTC", "naive,lightgbm")
    folder = artifacts / ml_selectors.champion(key="BTC", model="lightgbm").path
    booster = next(folder.glob("booster_h1.txt"))
    booster.write_text(booster.read_text().replace("tree", "TREE", 1))
    report = services.generate_forecasts(symbols="BTC", models="lightgbm", days=2)
    issued = rows("lightgbm")
    assert {r.model for r in issued} == {"naive"}
    assert issued[0].fallback_reason == (
        "lightgbm@champion refused (sha256 mismatch); served naive@champion"
    )
    assert report.fallbacks


def test_expired_model_falls_back_to_naive_labelled(coins, artifacts, settings):
    train_fast("BTC", "naive,drift")
    settings.MODEL_MAX_AGE_DAYS = 10
    later = datetime.now(UTC) + timedelta(days=11)
    services.generate_forecasts(symbols="BTC", models="drift", days=1, now=later)
    (issued,) = rows("drift")
    assert issued.model == "naive" and issued.model_version == "builtin"
    assert "drift@champion refused (expired)" in issued.fallback_reason


def test_auto_picks_per_horizon_the_model_with_skill_else_naive(coins, artifacts):
    train_fast("BTC", "naive,drift,lightgbm", horizons=2)

    def set_skill(data):
        models = data["keys"]["BTC"]["models"]
        for name, rels in (("drift", (0.97, 1.02)), ("lightgbm", (0.99, 1.01))):
            node = models[name]
            entry = node["versions"][node["aliases"]["champion"]]
            for h, rel in zip(("1", "2"), rels, strict=True):
                entry["metrics"]["per_horizon"][h].update(rel_mae=rel, skill=rel < 1)
        # relMAE below 1 without a significant DM win is not skill
        node = models["lightgbm"]
        node["versions"][node["aliases"]["champion"]]["metrics"]["per_horizon"]["1"].update(
            rel_mae=0.9, skill=False
        )

    mf.update_manifest(set_skill)
    assert auto_choice(key="BTC", horizons=[1, 2]) == {1: "drift", 2: "naive"}
    services.generate_forecasts(symbols="BTC", models="auto", days=2)
    assert [(r.horizon, r.model) for r in rows("auto")] == [(1, "drift"), (2, "naive")]


def test_bad_input_is_a_readable_error(coins, artifacts):
    with pytest.raises(services.ForecastInputError, match="unknown model 'gpt'"):
        services.generate_forecasts(symbols="BTC", models="gpt", days=1)
    with pytest.raises(services.ForecastInputError, match="unknown coin 'NOPE'"):
        services.generate_forecasts(symbols="NOPE", models="naive", days=1)
    with pytest.raises(services.ForecastInputError, match="days must be between 1 and 30"):
        services.generate_forecasts(symbols="BTC", models="naive", days=31)


def test_retraining_registers_a_challenger_and_promotes_only_when_better(coins, artifacts):
    first = train_fast("BTC", "drift", horizons=2)
    second = train_fast("BTC", "drift", horizons=2)  # same data, same skill: not better
    assert [r.promoted for r in first.results] == [True, True]  # naive + drift, no champion yet
    drift = next(r for r in second.results if r.model == "drift")
    assert not drift.promoted and "does not beat" in drift.reason
    aliases = ml_selectors.registered_model(key="BTC", model="drift").aliases
    assert aliases["challenger"] == drift.version and aliases["champion"] != drift.version
    forced = services.promote(symbol="BTC", model="drift", force=True)
    assert forced.promoted and forced.champion == drift.version
    assert services.rollback(symbol="BTC", model="drift").champion == aliases["champion"]
    with pytest.raises(services.ForecastInputError, match="unknown model"):
        services.promote(symbol="BTC", model="gpt")


def test_naive_timestamps_from_the_manifest_are_read_as_utc():
    assert parse_timestamp("2025-07-05T00:00:00") == datetime(2025, 7, 5, tzinfo=UTC)
    assert parse_timestamp("2025-07-05T00:00:00+00:00") == datetime(2025, 7, 5, tzinfo=UTC)
    assert parse_timestamp("") is None
