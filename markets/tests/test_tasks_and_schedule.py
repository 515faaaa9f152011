"""Celery tasks called directly (no eager mode), job locks, and the beat schedule rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from core import locks
from core.http import ProviderError
from core.models import JobRun
from core.schedules import PeriodicJob, registered_jobs, setup_schedule
from markets import providers, tasks
from markets.contracts import QuoteBatch
from markets.models import Asset, Candle, Quote
from markets.tests.data_helpers import asset_data, make_asset, make_candles, quote

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _db_locks(settings):  # type: ignore[no-untyped-def]
    settings.CORE_LOCK_BACKEND = "db"


@pytest.fixture
def fake_quotes(monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[dict] = []

    def fetch_quotes(*, top, provider=None, ids=None):  # type: ignore[no-untyped-def]
        calls.append({"top": top, "provider": provider, "ids": ids})
        btc = asset_data("bitcoin", "BTC", 1, coingecko_id="bitcoin")
        eth = asset_data("ethereum", "ETH", 2)
        as_of = datetime(2026, 1, 1, tzinfo=UTC)
        return QuoteBatch(
            quotes=(quote(btc, 50000.0, as_of=as_of), quote(eth, 2500.0, as_of=as_of)),
            source="coingecko",
        )

    monkeypatch.setattr(providers, "fetch_quotes", fetch_quotes)
    return calls


def test_sync_quotes_task_stores_quotes_and_records_the_run(fake_quotes):  # type: ignore[no-untyped-def]
    result = tasks.sync_quotes(top=2)
    assert result["status"] == "success"
    assert fake_quotes == [{"top": 2, "provider": None, "ids": None}]
    assert Quote.objects.count() == 2
    run = JobRun.objects.get()
    assert run.job == "markets.sync_quotes:top2" and run.status == "success"
    assert run.detail["result"]["stored"] == 2
    assert not locks.is_held("job:markets.sync_quotes:top2")  # released afterwards


def test_running_a_task_twice_gives_the_same_end_state(fake_quotes):  # type: ignore[no-untyped-def]
    tasks.sync_quotes(top=2)
    tasks.sync_quotes(top=2)
    assert Quote.objects.count() == 2
    assert Asset.objects.count() == 2


def test_a_run_is_skipped_while_another_holds_the_lock(fake_quotes):  # type: ignore[no-untyped-def]
    lease = locks.acquire("job:markets.sync_quotes:top2", ttl=60)
    result = tasks.sync_quotes(top=2)
    lease.release()
    assert result["status"] == "skipped"
    assert fake_quotes == []  # the provider was not even called
    assert JobRun.objects.get().status == "skipped"


def test_provider_failure_is_recorded_and_retried(monkeypatch):  # type: ignore[no-untyped-def]
    def boom(**kwargs):  # type: ignore[no-untyped-def]
        raise ProviderError("coingecko", "503 unavailable")

    monkeypatch.setattr(providers, "fetch_quotes", boom)
    retried = []

    def fake_retry(*args, **kwargs):  # type: ignore[no-untyped-def]
        retried.append(kwargs)
        raise kwargs.get("exc") or RuntimeError("retry")

    monkeypatch.setattr(tasks.sync_quotes, "retry", fake_retry)
    with pytest.raises(ProviderError):
        tasks.sync_quotes(top=2)
    assert retried, "autoretry_for must schedule a retry on a provider error"
    run = JobRun.objects.get()
    assert run.status == "failed" and "503 unavailable" in run.detail["error"]
    assert not locks.is_held("job:markets.sync_quotes:top2")


def test_task_options_follow_the_reliability_rules():
    for task in (
        tasks.sync_quotes,
        tasks.sync_candles,
        tasks.backfill_candles,
        tasks.cleanup_quotes,
    ):
        assert task.acks_late is True
        assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit
        assert task.retry_backoff and task.retry_jitter and task.max_retries
        assert ProviderError in task.autoretry_for


def test_cleanup_task_deletes_old_history_but_keeps_latest(settings):  # type: ignore[no-untyped-def]
    from markets.tests.data_helpers import store

    btc = asset_data("bitcoin", "BTC", 1)
    eth = asset_data("ethereum", "ETH", 2)
    old = datetime.now(UTC) - timedelta(days=40)
    store(quote(btc, 1.0, as_of=old), quote(eth, 1.0, as_of=old))
    store(quote(btc, 2.0, as_of=old + timedelta(hours=1)))
    store(quote(btc, 3.0))
    result = tasks.cleanup_quotes(older_than_days=30)
    assert result["result"]["deleted"] == 2  # two old btc quotes; eth's only quote is its latest
    assert sorted(Quote.objects.values_list("asset_id", "price")) == [
        ("bitcoin", 3.0),
        ("ethereum", 1.0),
    ]


def test_sync_candles_task_backfills_recent_candles(monkeypatch):  # type: ignore[no-untyped-def]
    make_asset("bitcoin", "BTC", 1, binance_symbol="BTCUSDT")
    make_asset("nopair", "NOP", 2)
    seen = []

    def fetch_klines(*, binance_symbol, interval, start, end):  # type: ignore[no-untyped-def]
        seen.append(binance_symbol)
        return []

    monkeypatch.setattr(providers, "fetch_klines", fetch_klines)
    result = tasks.sync_candles(interval="1h", lookback=3)
    assert result["status"] == "success"
    assert seen == ["BTCUSDT"]


# --- schedule --------------------------------------------------------------------------


def test_setup_schedule_creates_every_markets_job_once():
    call_command("setup_schedule", stdout=__import__("io").StringIO())
    names = set(PeriodicTask.objects.values_list("name", flat=True))
    expected = {
        "markets: quotes top 50",
        "markets: quotes top 200",
        "markets: hourly candles",
        "markets: daily candles",
        "markets: cleanup quote history",
    }
    assert expected <= names
    count = PeriodicTask.objects.count()
    call_command("setup_schedule", stdout=__import__("io").StringIO())
    assert PeriodicTask.objects.count() == count
    top50 = PeriodicTask.objects.get(name="markets: quotes top 50")
    assert top50.task == "markets.sync_quotes" and top50.interval.every == 60
    assert '"top": 50' in top50.kwargs
    assert PeriodicTask.objects.get(name="markets: quotes top 200").crontab.minute == "7"


def test_setup_schedule_keeps_admin_edits_unless_reset():
    setup_schedule()
    PeriodicTask.objects.filter(name="markets: quotes top 50").update(enabled=False)
    report = setup_schedule()
    assert "markets: quotes top 50" in report.kept
    assert PeriodicTask.objects.get(name="markets: quotes top 50").enabled is False
    setup_schedule(reset=True)
    assert PeriodicTask.objects.get(name="markets: quotes top 50").enabled is True


def test_settings_can_add_and_override_jobs(settings):  # type: ignore[no-untyped-def]
    settings.CELERY_BEAT_JOBS = {
        "markets: quotes top 50": {"enabled": False},
        "news: fetch feeds": {"task": "news.fetch", "every_seconds": 300},
    }
    jobs = {j.name: j for j in registered_jobs()}
    assert jobs["markets: quotes top 50"].enabled is False
    assert jobs["news: fetch feeds"].every_seconds == 300


def test_a_job_needs_exactly_one_schedule():
    with pytest.raises(ValueError, match="exactly one"):
        PeriodicJob(name="x", task="y")
    with pytest.raises(ValueError, match="5 fields"):
        PeriodicJob(name="x", task="y", crontab="* *")


def test_sync_candles_keeps_going_when_one_pair_fails(monkeypatch, settings):  # type: ignore[no-untyped-def]
    settings.MARKET_QUOTE_PROVIDERS = ["coingecko", "binance"]  # no replay to fill in
    make_asset("bitcoin", "BTC", 1, binance_symbol="BTCUSDT")
    make_asset("ethereum", "ETH", 2, binance_symbol="ETHUSDT")

    def fetch_klines(*, binance_symbol, interval, start, end):  # type: ignore[no-untyped-def]
        if binance_symbol == "BTCUSDT":
            raise ProviderError("binance", "400 invalid symbol")
        return []

    monkeypatch.setattr(providers, "fetch_klines", fetch_klines)
    result = tasks.sync_candles(interval="1d", lookback=2)
    assert result["result"]["failed"] == {"bitcoin": "400 invalid symbol"}
    assert result["result"]["written"] == {"ethereum": 0}


def test_sync_candles_offline_continues_the_series_from_the_replay(monkeypatch, sample_data):  # type: ignore[no-untyped-def]
    asset = make_asset("bitcoin", "BTC", 1, binance_symbol="BTCUSDT")
    make_candles(asset, range(3))  # a real series that ends in January 2024

    def offline(**kwargs):  # type: ignore[no-untyped-def]
        raise ProviderError("binance", "connect timeout")

    monkeypatch.setattr(providers, "fetch_klines", offline)
    result = tasks.sync_candles(interval="1d", lookback=2)
    assert "filled" in result["result"]["failed"]["bitcoin"]
    rows = list(Candle.objects.filter(asset=asset, interval="1d").order_by("open_time"))
    real_close = rows[2].close
    replayed = rows[3:]
    assert replayed and all(c.source == "replay" for c in replayed)
    assert replayed[0].open == pytest.approx(real_close, rel=1e-6)  # continues, no jump
    assert replayed[-1].open_time >= datetime.now(UTC) - timedelta(days=2)  # up to now


def test_cleanup_also_trims_the_job_log():
    old = datetime.now(UTC) - timedelta(days=30)
    JobRun.objects.create(job="x", status="success", started_at=old)
    result = tasks.cleanup_quotes()
    assert result["result"]["job_runs_deleted"] == 1
    assert JobRun.objects.filter(job="x").count() == 0
