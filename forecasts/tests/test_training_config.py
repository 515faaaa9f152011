"""Training reads LightGBM's horizon layout from FORECAST_LIGHTGBM_HORIZON_MODE."""

from __future__ import annotations

from forecasts.engine import get_forecaster
from forecasts.services.training import TrainConfig


def test_lightgbm_trains_per_horizon_by_default(settings):
    config = TrainConfig.from_settings(horizons=[1, 7])
    assert settings.FORECAST_LIGHTGBM_HORIZON_MODE == "per_horizon"
    assert config.params["lightgbm"]["horizon_mode"] == "per_horizon"
    assert config.params["lightgbm"]["num_threads"] == 1  # the settings' params are kept
    lgb = get_forecaster("lightgbm", **config.params["lightgbm"])
    assert not lgb.pooled


def test_the_setting_switches_lightgbm_and_the_ensembles_lightgbm(settings):
    settings.FORECAST_LIGHTGBM_HORIZON_MODE = "pooled"
    config = TrainConfig.from_settings(horizons=[1, 7])
    assert config.params["lightgbm"]["horizon_mode"] == "pooled"
    assert config.params["ensemble"]["base_params"]["lightgbm"]["horizon_mode"] == "pooled"
    assert settings.FORECAST_MODEL_PARAMS["lightgbm"] == {"num_threads": 1}  # not mutated


def test_explicit_params_win_over_the_setting(settings):
    settings.FORECAST_LIGHTGBM_HORIZON_MODE = "pooled"
    config = TrainConfig.from_settings(
        horizons=[1], params={"lightgbm": {"horizon_mode": "per_horizon"}}
    )
    assert config.params["lightgbm"]["horizon_mode"] == "per_horizon"
