"""core.services.job_run: every app's periodic jobs run under their lock and leave a JobRun; the
model moved from markets to core without losing a row."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from core import locks, selectors, services
from core.models import JobRun

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _db_locks(settings):  # type: ignore[no-untyped-def]
    settings.CORE_LOCK_BACKEND = "db"


def test_a_run_is_recorded_with_its_result_and_releases_the_lock():
    result = services.job_run(job="core.test", fn=lambda: {"done": 3}, task_id="t1")
    assert result["status"] == "success" and result["result"] == {"done": 3}
    run = JobRun.objects.get()
    assert (run.job, run.task_id, run.status) == ("core.test", "t1", "success")
    assert run.detail["result"] == {"done": 3} and run.finished_at is not None
    assert not locks.is_held("job:core.test")


def test_a_run_that_finds_the_lock_taken_is_skipped_and_says_so():
    lease = locks.acquire("job:core.test", ttl=60)
    try:
        result = services.job_run(job="core.test", fn=lambda: pytest.fail("ran unlocked"))
    finally:
        lease.release()
    assert result["status"] == "skipped"
    assert JobRun.objects.get().status == "skipped"


def test_a_failure_is_recorded_and_raised_again():
    def boom() -> None:
        raise ValueError("no data")

    with pytest.raises(ValueError):
        services.job_run(job="core.test", fn=boom)
    run = JobRun.objects.get()
    assert run.status == "failed" and run.detail["error"] == "ValueError: no data"
    assert not locks.is_held("job:core.test")


def test_cleanup_keeps_two_weeks_and_runs_are_read_by_task():
    now = timezone.now()
    JobRun.objects.create(job="markets.sync_quotes:top50", status="success", started_at=now)
    JobRun.objects.create(job="news.poll_sources", status="failed", started_at=now)
    JobRun.objects.create(job="old", status="success", started_at=now - timedelta(days=15))
    assert services.job_runs_cleanup() == 1
    assert [r.job for r in selectors.job_runs_for_task(task="markets.sync_quotes")] == [
        "markets.sync_quotes:top50"
    ]
    assert selectors.job_run_counts(since=now - timedelta(hours=1)) == {"success": 1, "failed": 1}


@pytest.mark.slow  # migrates back and forth, then flushes every table (about 8 s on PostgreSQL)
@pytest.mark.django_db(transaction=True)
def test_rows_written_while_markets_owned_the_model_are_still_there():
    before = [("core", "0002_health_sample"), ("markets", "0001_initial")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("markets", "JobRun")
    old.objects.create(job="markets.sync_quotes:top50", status="success", started_at=timezone.now())
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    run = JobRun.objects.get()
    assert (run.job, run.status) == ("markets.sync_quotes:top50", "success")
    # Its content type (and so the permissions granted on it) moved along.
    assert ContentType.objects.get_for_model(JobRun).app_label == "core"
    assert not ContentType.objects.filter(app_label="markets", model="jobrun").exists()
