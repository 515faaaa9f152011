"""Training and issuing fanned out: one task per (coin, model type), run here by calling the
service (and the Celery task functions) directly, never through an eager Celery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.locks import acquire
from forecasts import services, tasks
from forecasts.models import Forecast, ForecastRun, ForecastRunTask, RunStatus, TaskStatus
from forecasts.services import fanout
from markets.contracts import AssetData
from mlserving import selectors as ml_selectors
from mlserving import services as registry

from .conftest import FAST_PARAMS, synthetic_candles

pytestmark = pytest.mark.django_db

FAST = {
    "horizons": [1, 2, 3],
    "eval_days": 20,
    "refit_every": 30,
    "warmup_days": 10,
    "params": FAST_PARAMS,
}  # need = 20 + 10 + 60 = 90 daily candles


@pytest.fixture
def sent(monkeypatch):
    """Messages the fan-out would send: [(kind, [task ids])]."""
    out: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(
        fanout, "enqueue_tasks", lambda *, kind, task_ids: out.append((kind, list(task_ids)))
    )
    return out


@pytest.fixture
def published(monkeypatch):
    calls: list[dict] = []
    from streaming import services as streaming

    monkeypatch.setattr(streaming, "publish", lambda **kw: calls.append(kw))
    return calls


@pytest.fixture
def short_coin(db):
    """dogecoin with 50 daily candles: less than the 90 the fast config needs."""
    from markets import selectors as market_selectors
    from markets import services as market_services

    market_services.assets_upsert(
        assets=[AssetData(slug="dogecoin", symbol="DOGE", name="Dogecoin", rank=3)]
    )
    doge = market_selectors.asset_get("dogecoin")
    market_services.candles_upsert(
        asset=doge, interval="1d", candles=synthetic_candles(days=50, start_price=0.1, seed=3)
    )
    return doge


def start_training(django_capture_on_commit_callbacks, **kw):
    with django_capture_on_commit_callbacks(execute=True):
        return services.training_run_start(**{**FAST, **kw})


def run_all(run: ForecastRun, django_capture_on_commit_callbacks) -> None:
    for task_id in run.tasks.filter(status=TaskStatus.QUEUED).values_list("id", flat=True):
        with django_capture_on_commit_callbacks(execute=True):
            services.execute_task(task_id=task_id)


# --- which coins ------------------------------------------------------------------------------


def test_tracked_coins_are_the_top_n_by_rank_plus_defaults_and_registered_sources(
    coins, short_coin, settings, monkeypatch
):
    settings.FORECAST_TOP_N = 1
    settings.FORECAST_DEFAULT_SYMBOLS = ["ETH", "NOPE"]  # unknown: logged, left out
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    assert [a.pk for a in services.tracked_assets()] == ["bitcoin", "ethereum"]
    services.tracked_assets_register("watchlists", lambda: ["dogecoin", "bitcoin"])
    assert [a.pk for a in services.tracked_assets()] == ["bitcoin", "ethereum", "dogecoin"]


def test_a_broken_tracked_source_does_not_stop_the_others(coins, settings, monkeypatch):
    settings.FORECAST_TOP_N = 2
    monkeypatch.setattr(fanout, "_tracked_sources", {})

    def broken():
        raise RuntimeError("watchlists down")

    services.tracked_assets_register("broken", broken)
    assert [a.pk for a in services.tracked_assets()] == ["bitcoin", "ethereum"]


def test_inactive_coins_are_not_tracked(coins, settings, monkeypatch):
    settings.FORECAST_TOP_N = 5
    settings.FORECAST_DEFAULT_SYMBOLS = ["ETH"]
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    coins["ETH"].__class__.objects.filter(pk="ethereum").update(is_active=False)
    assert [a.pk for a in services.tracked_assets()] == ["bitcoin"]


# --- training run -----------------------------------------------------------------------------


def test_a_training_run_has_one_task_per_coin_and_model_sent_on_commit(
    coins, short_coin, artifacts, sent, django_capture_on_commit_callbacks
):
    run = start_training(
        django_capture_on_commit_callbacks, symbols="BTC,ETH,DOGE", models="drift,ets"
    )
    tasks_ = {(t.asset_id, t.model): t for t in run.tasks.all()}
    assert set(tasks_) == {
        (c, m) for c in ("bitcoin", "ethereum", "dogecoin") for m in ("naive", "drift", "ets")
    }  # naive always: it is the bar
    queued = sorted(t.pk for t in tasks_.values() if t.status == TaskStatus.QUEUED)
    assert sent == [("train", queued)] and len(queued) == 6
    doge = tasks_[("dogecoin", "ets")]
    assert doge.status == TaskStatus.SKIPPED
    assert doge.detail == "not enough history: 50 daily candles, forecasts need at least 90"


def test_tasks_are_sent_longest_first_by_what_each_model_type_took_before(
    coins, artifacts, sent, django_capture_on_commit_callbacks
):
    earlier = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="drift,ets")
    took = {"naive": 1.0, "drift": 20.0}  # ets: never measured (counts as the longest)
    for task in earlier.tasks.all():
        if task.model in took:
            task.status, task.seconds = TaskStatus.DONE, took[task.model]
            task.finished_at = timezone.now()
            task.save()
    sent.clear()
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC,ETH", models="drift,ets")
    by_id = {t.pk: (t.asset_id, t.model) for t in run.tasks.all()}
    order = [by_id[i] for i in sent[0][1]]
    assert [m for _, m in order] == ["ets", "ets", "drift", "drift", "naive", "naive"]
    assert [a for a, _ in order] == ["bitcoin", "ethereum"] * 3  # ids order within a type
    assert fanout.typical_seconds(kind="train") == {"naive": 1.0, "drift": 20.0}


def test_nothing_is_sent_when_the_transaction_rolls_back(coins, artifacts, sent):
    from django.db import transaction

    def start_then_fail() -> None:
        with transaction.atomic():
            services.training_run_start(symbols="BTC", models="drift", **FAST)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        start_then_fail()
    assert sent == [] and not ForecastRun.objects.exists()


def test_bad_input_is_refused_before_anything_is_written(coins, artifacts, sent):
    with pytest.raises(services.ForecastInputError, match="unknown model"):
        services.training_run_start(symbols="BTC", models="nope", **FAST)
    with pytest.raises(services.ForecastInputError, match="unknown coin"):
        services.training_run_start(symbols="NOPE", models="drift", **FAST)
    assert not ForecastRun.objects.exists() and sent == []


def test_every_task_registers_its_version_and_the_last_one_closes_the_run_and_issues(
    coins, artifacts, sent, django_capture_on_commit_callbacks
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC,ETH", models="drift,ets")
    run_all(run, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.finished_at is not None
    rows = list(run.tasks.all())
    assert {t.status for t in rows} == {TaskStatus.DONE}
    version = fanout.run_version_id(run)
    assert {t.version for t in rows} == {version}
    assert all(t.seconds is not None and t.attempts == 1 for t in rows)
    naive = run.tasks.get(asset_id="bitcoin", model="naive")
    assert naive.skill_score == 1.0 and naive.promoted is True
    registry.reset_caches()
    found = {
        (v.key, v.model, v.version) for m in ml_selectors.registered_models() for v in m.versions
    }
    assert found == {(k, m, version) for k in ("BTC", "ETH") for m in ("naive", "drift", "ets")}
    assert registry.build_manifest().ok
    # the last task started the issuing run for the coins it trained
    issuing = ForecastRun.objects.get(kind="issue")
    assert set(issuing.tasks.values_list("asset_id", flat=True)) == {"bitcoin", "ethereum"}
    assert sent[-1] == ("issue", sorted(issuing.tasks.values_list("id", flat=True)))


def test_a_failing_task_is_reported_and_blocks_nobody(
    coins, artifacts, sent, django_capture_on_commit_callbacks, monkeypatch
):
    from forecasts.services import training

    real = training.train_one

    def flaky(**kw):
        if kw["model"] == "drift" and kw["asset"].pk == "bitcoin":
            raise ValueError("singular matrix")
        return real(**kw)

    monkeypatch.setattr(training, "train_one", flaky)
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC,ETH", models="drift")
    run_all(run, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    failed = run.tasks.get(status=TaskStatus.FAILED)
    assert (failed.asset_id, failed.model) == ("bitcoin", "drift")
    assert failed.detail == "ValueError: singular matrix"
    assert run.tasks.filter(status=TaskStatus.DONE).count() == 3
    assert run.status == RunStatus.PARTIAL
    from forecasts import selectors

    summary = selectors.run_summary(run=run)
    assert summary["failures"] == ["bitcoin/drift: ValueError: singular matrix"]
    registry.reset_caches()
    models = {m.model for m in ml_selectors.registered_models(key="BTC")}
    assert "drift" not in models and "naive" in models  # the manifest holds what succeeded
    assert registry.build_manifest().ok


def test_re_running_a_finished_task_changes_nothing(
    coins, artifacts, sent, django_capture_on_commit_callbacks
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="naive")
    task = run.tasks.get()
    services.execute_task(task_id=task.pk)
    before = (artifacts / "manifest.json").read_text()
    again = services.execute_task(task_id=task.pk)
    assert again.status == TaskStatus.DONE and again.attempts == 1
    assert (artifacts / "manifest.json").read_text() == before


def test_a_task_whose_worker_died_after_registering_keeps_that_version(
    coins, artifacts, sent, django_capture_on_commit_callbacks, monkeypatch
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="drift")
    task = run.tasks.get(model="drift")
    services.execute_task(task_id=task.pk)
    # the worker died before reporting: the row still says running, the message comes back
    ForecastRunTask.objects.filter(pk=task.pk).update(status=TaskStatus.RUNNING, version="")
    from forecasts.services import training

    def must_not_train(**kw):
        raise AssertionError("trained twice")

    monkeypatch.setattr(training, "train_one", must_not_train)
    again = services.execute_task(task_id=task.pk)
    assert again.status == TaskStatus.DONE and again.attempts == 2
    assert again.version == fanout.run_version_id(run)
    registry.reset_caches()
    drift = ml_selectors.registered_model(key="BTC", model="drift")
    assert [v.version for v in drift.versions] == [again.version]


def test_a_task_whose_worker_died_mid_registration_is_redone_cleanly(
    coins, artifacts, sent, django_capture_on_commit_callbacks
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="naive")
    task = run.tasks.get()
    leftover = artifacts / "BTC" / "naive" / fanout.run_version_id(run)
    leftover.mkdir(parents=True)
    (leftover / "forecaster.json").write_text("torn write")
    done = services.execute_task(task_id=task.pk)
    assert done.status == TaskStatus.DONE
    assert (
        not (leftover / "forecaster.json").exists()
        or "torn" not in (leftover / "forecaster.json").read_text()
    )
    assert registry.build_manifest().ok


def test_a_task_held_by_another_worker_is_retried_later(
    coins, artifacts, sent, django_capture_on_commit_callbacks
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="naive")
    task = run.tasks.get()
    lease = acquire(f"forecasts:run-task:{task.pk}", ttl=60)
    try:
        with pytest.raises(services.TaskBusy):
            tasks.train_task.run(task.pk)  # called directly, Celery's retry re-raises
    finally:
        lease.release()
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED and task.attempts == 0


def test_transient_errors_are_retried_then_reported(
    coins, artifacts, sent, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import OperationalError

    from forecasts.services import training

    def db_down(**kw):
        raise OperationalError("database is locked")

    monkeypatch.setattr(training, "train_one", db_down)
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="naive")
    task = run.tasks.get()
    with pytest.raises(OperationalError):
        services.execute_task(task_id=task.pk, final_attempt=False)
    task.refresh_from_db()
    assert task.status == TaskStatus.QUEUED and task.detail == "retrying: OperationalError"
    last = services.execute_task(task_id=task.pk, final_attempt=True)
    assert last.status == TaskStatus.FAILED and "database is locked" in last.detail


def test_a_task_that_keeps_killing_its_worker_is_given_up(
    coins, artifacts, sent, django_capture_on_commit_callbacks
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="naive")
    task = run.tasks.get()
    ForecastRunTask.objects.filter(pk=task.pk).update(
        status=TaskStatus.RUNNING, attempts=fanout.MAX_ATTEMPTS
    )
    out = services.execute_task(task_id=task.pk)
    assert out.status == TaskStatus.FAILED and "gave up after 3 attempts" in out.detail
    run.refresh_from_db()
    assert run.status == RunStatus.PARTIAL


def test_lost_tasks_of_an_old_run_are_reaped(
    coins, artifacts, sent, settings, django_capture_on_commit_callbacks
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC", models="naive")
    assert services.reap_lost_tasks() == 0  # recent: somebody may still run it
    ForecastRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(days=1))
    assert services.reap_lost_tasks() == 1
    run.refresh_from_db()
    assert run.status == RunStatus.PARTIAL
    assert run.tasks.get().detail == "lost: no worker ran it in time"


# --- issuing ----------------------------------------------------------------------------------


def test_issuing_fans_out_per_coin_publishes_on_commit_and_skips_short_history(
    coins, short_coin, artifacts, sent, published, settings, django_capture_on_commit_callbacks
):
    settings.FORECAST_TRAIN_EVAL_DAYS = 20
    settings.FORECAST_TRAIN_WARMUP_DAYS = 10
    with django_capture_on_commit_callbacks(execute=True):
        run = services.issuing_run_start(symbols="BTC,DOGE", models="naive", days=2)
    doge = run.tasks.get(asset_id="dogecoin")
    assert doge.status == TaskStatus.SKIPPED and doge.detail.startswith("not enough history")
    btc = run.tasks.get(asset_id="bitcoin")
    assert sent == [("issue", [btc.pk])]
    with django_capture_on_commit_callbacks(execute=True):
        done = services.execute_task(task_id=btc.pk)
    assert done.status == TaskStatus.DONE and done.result["created"] == 4  # naive + auto
    assert Forecast.objects.filter(asset_id="bitcoin").count() == 4
    assert not Forecast.objects.filter(asset_id="dogecoin").exists()
    assert {c["channel"] for c in published} == {"forecasts:bitcoin"}
    items = [i for c in published for i in c["items"]]
    assert len(items) == 4 and len({i["id"] for i in items}) == 4
    first = items[0]
    assert first["source"].startswith("cryptocast:naive@") and first["as_of"]
    assert first["skill"]["rel_mae"] == 1.0  # honest: naive is the bar
    run.refresh_from_db()
    assert run.status == RunStatus.DONE


def test_nothing_is_published_when_the_issue_already_exists(
    coins, artifacts, sent, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.generate_forecasts(symbols="BTC", models="naive", days=2)
    assert len(published) == 1
    published.clear()
    with django_capture_on_commit_callbacks(execute=True):
        report = services.generate_forecasts(symbols="BTC", models="naive", days=2)
    assert report.existing == 1 and published == []


# --- the periodic entry points ----------------------------------------------------------------


def test_weekly_job_starts_a_run_of_the_tracked_coins_and_never_a_second_one(
    coins, artifacts, sent, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.FORECAST_TOP_N = 2
    settings.FORECAST_DEFAULT_MODELS = ["naive", "drift"]
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    with django_capture_on_commit_callbacks(execute=True):
        first = tasks.retrain_models.run()
    result = first["result"]
    assert first["status"] == "success" and result["counts"] == {"queued": 4}
    again = tasks.retrain_models.run()
    assert again["result"] == {
        "skipped": f"run {result['run']} is still going",
        "run": result["run"],
    }
    assert ForecastRun.objects.filter(kind="train").count() == 1


def test_daily_job_starts_an_issuing_run(
    coins, artifacts, sent, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.FORECAST_TOP_N = 1
    settings.FORECAST_DEFAULT_SYMBOLS = []
    monkeypatch.setattr(fanout, "_tracked_sources", {})
    with django_capture_on_commit_callbacks(execute=True):
        out = tasks.generate_daily_forecasts.run(models=["naive"], days=2)
    run = ForecastRun.objects.get(kind="issue")
    assert out["result"]["run"] == run.pk and list(run.tasks.values_list("asset_id", "model")) == [
        ("bitcoin", "*")
    ]


def test_messages_carry_time_limits_and_the_training_queue(coins, settings, monkeypatch):
    settings.FORECAST_TRAINING_QUEUE = "training"
    settings.FORECAST_TRAIN_TASK_SECONDS = 900
    captured = []
    from celery import canvas

    monkeypatch.setattr(canvas.group, "apply_async", lambda self, *a, **k: captured.append(self))
    fanout.enqueue_tasks(kind="train", task_ids=[7, 8])
    fanout.enqueue_tasks(kind="issue", task_ids=[9])
    train, issue = captured
    assert [s.args for s in train.tasks] == [(7,), (8,)]
    assert train.tasks[0].task == "forecasts.train_task"
    assert train.tasks[0].options == {
        "time_limit": 900,
        "soft_time_limit": 840,
        "queue": "training",
    }
    assert issue.tasks[0].task == "forecasts.issue_task"
    assert "queue" not in issue.tasks[0].options


def test_fanned_out_tasks_ack_late_and_requeue_when_the_worker_dies():
    for task in (tasks.train_task, tasks.issue_task):
        assert task.acks_late is True and task.reject_on_worker_lost is True
        assert task.soft_time_limit < task.time_limit
        assert task.max_retries >= 4 and task.retry_jitter is True


# --- the training endpoint and the coin pages -------------------------------------------------


URL = "/api/v1/forecasts/training"


def test_training_endpoint_needs_a_signed_in_client(api_client, db):
    assert api_client.get(URL).status_code == 401


def test_training_endpoint_is_for_analysts_and_staff_only(auth_client, user, db):
    denied = auth_client.get(URL)
    assert denied.status_code == 403 and denied.json()["type"] == "client_error"
    from accounts.services import user_role_set

    user_role_set(user=user, role="analyst")
    assert auth_client.get(URL).status_code == 200


def test_training_endpoint_before_any_run(staff_client, db):
    assert staff_client.get(URL).json() == {
        "run": None,
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_training_endpoint_shows_the_latest_run_per_coin_and_model(
    staff_client,
    coins,
    short_coin,
    artifacts,
    sent,
    django_capture_on_commit_callbacks,
    django_assert_num_queries,
):
    run = start_training(django_capture_on_commit_callbacks, symbols="BTC,DOGE", models="naive")
    services.execute_task(task_id=run.tasks.get(asset_id="bitcoin").pk)
    with django_assert_num_queries(4):  # run, count, page (asset joined), counts
        body = staff_client.get(URL).json()
    assert body["run"]["id"] == run.pk and body["run"]["status"] == "done"
    assert body["run"]["counts"] == {"done": 1, "skipped": 1}
    assert body["run"]["params"]["horizons"] == [1, 2, 3]
    btc, doge = body["results"]
    assert (btc["id"], btc["symbol"], btc["model"], btc["status"]) == (
        "bitcoin",
        "BTC",
        "naive",
        "done",
    )
    assert btc["skill_score"] == 1.0 and btc["promoted"] is True and btc["seconds"] > 0
    assert doge["status"] == "skipped" and doge["detail"].startswith("not enough history")
    only = staff_client.get(URL, {"status": "skipped"}).json()
    assert [t["id"] for t in only["results"]] == ["dogecoin"]


def test_training_endpoint_names_the_bad_field(staff_client, db):
    bad = staff_client.get(URL, {"kind": "everything", "page_size": 5})
    assert bad.status_code == 400
    assert [e["attr"] for e in bad.json()["errors"]] == ["kind"]


def test_a_coin_without_enough_history_says_so_on_its_forecast(
    api_client, coins, short_coin, artifacts, sent, settings, django_capture_on_commit_callbacks
):
    settings.FORECAST_TRAIN_EVAL_DAYS = 20
    settings.FORECAST_TRAIN_WARMUP_DAYS = 10
    with django_capture_on_commit_callbacks(execute=True):
        services.issuing_run_start(symbols="DOGE", models="naive", days=2)
    body = api_client.get("/api/v1/forecasts", {"ids": "dogecoin"}).json()
    (coin,) = body["data"]
    assert coin["points"] == []
    assert coin["fallback"] == "not enough history: 50 daily candles, forecasts need at least 90"
