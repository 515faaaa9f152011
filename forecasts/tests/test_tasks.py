from __future__ import annotations

import pytest

from core.locks import acquire
from forecasts import tasks
from forecasts.models import Forecast

pytestmark = pytest.mark.django_db


def test_generate_task_issues_forecasts_and_is_idempotent(coins, artifacts, settings):
    settings.FORECAST_DEFAULT_SYMBOLS = ["BTC"]
    settings.FORECAST_DEFAULT_MODELS = ["naive"]
    first = tasks.generate_daily_forecasts.run(days=2)
    assert first["status"] == "success" and first["result"]["created"] == 4  # naive + auto
    again = tasks.generate_daily_forecasts.run(days=2)
    assert again["result"] == {"created": 0, "existing": 2, "fallbacks": [], "skipped": []}
    assert Forecast.objects.count() == 4


def test_a_running_job_makes_the_next_one_skip(coins, artifacts):
    lease = acquire("job:forecasts.fill_actuals", ttl=60)
    try:
        assert tasks.fill_forecast_actuals.run()["status"] == "skipped"
    finally:
        lease.release()
    assert tasks.fill_forecast_actuals.run() == {
        "job": "fill_actuals",
        "status": "success",
        "result": {"filled": 0},
    }


def test_tasks_ack_late_with_time_limits():
    for task in (tasks.generate_daily_forecasts, tasks.retrain_models, tasks.fill_forecast_actuals):
        assert task.acks_late is True
        assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit
