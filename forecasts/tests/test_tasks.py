from __future__ import annotations

import pytest

from core.locks import acquire
from forecasts import tasks
from forecasts.models import Forecast, ForecastRunTask

pytestmark = pytest.mark.django_db


def test_generate_task_fans_out_issues_forecasts_and_is_idempotent(
    coins, artifacts, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from forecasts.services import fanout

    settings.FORECAST_DEFAULT_SYMBOLS = ["BTC"]
    settings.FORECAST_DEFAULT_MODELS = ["naive"]
    settings.FORECAST_TOP_N = 0
    monkeypatch.setattr(fanout, "enqueue_tasks", lambda **kw: None)
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    created = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            started = tasks.generate_daily_forecasts.run(days=2)
        assert started["status"] == "success" and started["result"]["counts"] == {"queued": 1}
        (task_id,) = ForecastRunTask.objects.filter(run_id=started["result"]["run"]).values_list(
            "id", flat=True
        )
        out = tasks.issue_task.run(task_id)
        created.append(out)
    assert [o["status"] for o in created] == ["done", "done"]
    assert created[0]["detail"] == "4 created, 0 already issued"  # naive + auto, 2 days
    assert created[1]["detail"] == "0 created, 2 already issued"
    assert Forecast.objects.count() == 4


def test_a_running_job_makes_the_next_one_skip(coins, artifacts):
    lease = acquire("job:forecasts.fill_actuals", ttl=60)
    try:
        assert tasks.fill_forecast_actuals.run()["status"] == "skipped"
    finally:
        lease.release()
    done = tasks.fill_forecast_actuals.run()
    assert (done["job"], done["status"], done["result"]) == (
        "forecasts.fill_actuals",
        "success",
        {"filled": 0},
    )
    # recorded as job runs, as the ETL jobs are (etl/jobs, the admin)
    from core.models import JobRun

    runs = JobRun.objects.filter(job="forecasts.fill_actuals").order_by("started_at")
    assert [r.status for r in runs] == ["skipped", "success"]


def test_tasks_ack_late_with_time_limits():
    for task in (
        tasks.generate_daily_forecasts,
        tasks.retrain_models,
        tasks.fill_forecast_actuals,
    ):
        assert task.acks_late is True
        assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit
