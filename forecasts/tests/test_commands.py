from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("command", "kwargs", "message"),
    [
        ("train_models", {"symbols": "NOPE"}, "unknown coin 'NOPE'"),
        ("train_models", {"symbols": "BTC", "models": "gpt"}, "unknown model 'gpt'"),
        ("train_models", {"symbols": "BTC", "models": "auto"}, "unknown model 'auto'"),
        ("train_models", {"symbols": "BTC", "horizons": 0}, "--horizons"),
        ("train_models", {"symbols": "BTC", "eval_days": 0}, "--eval-days"),
        ("generate_forecasts", {"symbols": "BTC", "days": 31}, "days must be between 1 and 30"),
        ("generate_forecasts", {"symbols": "BTC", "models": "x"}, "unknown model 'x'"),
        ("generate_forecasts", {"symbols": ""}, "no coins given"),
    ],
)
def test_bad_input_exits_with_a_readable_error(coins, artifacts, command, kwargs, message):
    with pytest.raises(CommandError, match=message):
        call_command(command, **kwargs)


def test_training_needs_enough_history(coins, artifacts):
    with pytest.raises(CommandError, match="training needs at least"):
        call_command("train_models", symbols="BTC", models="naive", eval_days=1000)


def test_cli_exit_code_is_non_zero_on_bad_input(coins, artifacts):
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "manage.py", "generate_forecasts", "--symbols", "BTC", "--days", "99"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "days must be between 1 and 30" in done.stderr


def test_train_models_tracked_runs_every_tracked_coin_as_a_run(
    coins, artifacts, settings, monkeypatch
):
    from forecasts.models import ForecastRun
    from forecasts.services import fanout

    settings.FORECAST_TOP_N = 2
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    monkeypatch.setattr(fanout, "enqueue_tasks", lambda **kw: pytest.fail("nothing is sent"))
    call_command(
        "train_models", tracked=True, models="naive", horizons=2, eval_days=20, warmup_days=10
    )
    run = ForecastRun.objects.get()
    assert run.status == "done"
    assert sorted(run.tasks.values_list("asset_id", "status")) == [
        ("bitcoin", "done"),
        ("ethereum", "done"),
    ]


def test_train_models_needs_coins_or_tracked(coins, artifacts):
    with pytest.raises(CommandError, match="--tracked"):
        call_command("train_models", models="naive")


def test_generate_forecasts_tracked_issues_every_tracked_coin_and_says_which_lack_history(
    coins, artifacts, settings, monkeypatch, capsys
):
    from forecasts.models import Forecast, ForecastRun
    from forecasts.services import fanout
    from markets import selectors as market_selectors
    from markets import services as market_services
    from markets.contracts import AssetData

    from .conftest import synthetic_candles

    settings.FORECAST_TOP_N = 3
    settings.FORECAST_TRAIN_EVAL_DAYS = 20
    settings.FORECAST_TRAIN_WARMUP_DAYS = 10  # enough = 20 + 10 + 60 = 90 daily candles
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    monkeypatch.setattr(fanout, "enqueue_tasks", lambda **kw: pytest.fail("nothing is sent"))
    market_services.assets_upsert(
        assets=[AssetData(slug="dogecoin", symbol="DOGE", name="Dogecoin", rank=3)]
    )
    market_services.candles_upsert(
        asset=market_selectors.asset_get("dogecoin"),
        interval="1d",
        candles=synthetic_candles(days=50, start_price=0.1, seed=3),
    )
    call_command("train_models", tracked=True, models="naive", horizons=2, eval_days=20)
    capsys.readouterr()
    call_command("generate_forecasts", tracked=True, models="naive", days=2)
    out = capsys.readouterr().out
    run = ForecastRun.objects.filter(kind="issue").get()
    assert dict(run.tasks.values_list("asset_id", "status")) == {
        "bitcoin": "done",
        "ethereum": "done",
        "dogecoin": "skipped",
    }
    assert "not enough history: 50 daily candles, forecasts need at least 90" in out
    assert set(Forecast.objects.values_list("asset_id", flat=True)) == {"bitcoin", "ethereum"}


def test_generate_forecasts_needs_coins_or_tracked(coins, artifacts):
    with pytest.raises(CommandError, match="--tracked"):
        call_command("generate_forecasts", models="naive")
