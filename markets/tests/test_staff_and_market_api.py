"""Staff endpoints (sync, ETL jobs) and the whole-market reads with their fallbacks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from celery import current_app
from django_celery_beat.models import PeriodicTask

from core.http import ProviderError
from core.models import JobRun
from core.schedules import setup_schedule
from markets import providers, services
from markets.contracts import AssetData, GlobalData, TrendingCoin
from markets.tests.data_helpers import asset_data, quote, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):  # type: ignore[no-untyped-def]
    calls: list[tuple[str, dict, dict]] = []
    monkeypatch.setattr(
        current_app,
        "send_task",
        lambda name, kwargs=None, **opts: calls.append((name, kwargs, opts)),
    )
    return calls


# --- sync ------------------------------------------------------------------------------


def test_sync_is_enqueued_only_on_commit(staff_client, sent, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff_client.post("/api/v1/cryptocurrencies/sync", {"top": 10}, format="json")
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    assert sent == []  # nothing leaves before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent == [("markets.sync_quotes", {"top": 10, "provider": None}, {"task_id": task_id})]


def test_sync_validates_top(staff_client, sent):  # type: ignore[no-untyped-def]
    response = staff_client.post("/api/v1/cryptocurrencies/sync", {"top": 0}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "top"


def test_sync_refuses_anonymous_401_and_users_403(api_client, user, sent):  # type: ignore[no-untyped-def]
    assert api_client.post("/api/v1/cryptocurrencies/sync").status_code == 401
    api_client.force_authenticate(user=user)
    assert api_client.post("/api/v1/cryptocurrencies/sync").status_code == 403
    assert sent == []


# --- ETL jobs --------------------------------------------------------------------------


@pytest.fixture
def jobs(db):  # type: ignore[no-untyped-def]
    setup_schedule()
    return {j.name: j for j in PeriodicTask.objects.all()}


def test_etl_jobs_lists_the_beat_schedule(api_client, jobs):  # type: ignore[no-untyped-def]
    body = api_client.get("/api/v1/etl/jobs").json()
    by_name = {j["name"]: j for j in body}
    assert by_name["markets: quotes top 50"]["enabled"] is True
    assert by_name["markets: quotes top 50"]["task"] == "markets.sync_quotes"
    assert "60" in by_name["markets: quotes top 50"]["schedule"]


def test_etl_job_detail_shows_recent_runs(api_client, jobs):  # type: ignore[no-untyped-def]
    job = jobs["markets: quotes top 50"]
    JobRun.objects.create(
        job="markets.sync_quotes:top50", status="success", started_at=datetime.now(UTC)
    )
    body = api_client.get(f"/api/v1/etl/jobs/{job.pk}").json()
    assert body["recent_runs"][0]["status"] == "success"
    assert api_client.get("/api/v1/etl/jobs/999999").status_code == 404


def test_staff_can_run_enable_and_disable_a_job(
    staff_client, jobs, sent, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    job = jobs["markets: quotes top 200"]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/v1/etl/jobs/{job.pk}/run")
    assert response.status_code == 202
    assert sent[0][0] == "markets.sync_quotes" and sent[0][1] == {"top": 200}
    assert staff_client.post(f"/api/v1/etl/jobs/{job.pk}/disable").json()["enabled"] is False
    assert PeriodicTask.objects.get(pk=job.pk).enabled is False
    assert staff_client.post(f"/api/v1/etl/jobs/{job.pk}/enable").json()["enabled"] is True


def test_job_actions_are_staff_only(api_client, user, jobs):  # type: ignore[no-untyped-def]
    job = jobs["markets: quotes top 200"]
    for action in ("run", "enable", "disable"):
        assert api_client.post(f"/api/v1/etl/jobs/{job.pk}/{action}").status_code == 401
    api_client.force_authenticate(user=user)
    for action in ("run", "enable", "disable"):
        assert api_client.post(f"/api/v1/etl/jobs/{job.pk}/{action}").status_code == 403


def test_etl_status_reports_freshness(api_client, jobs):  # type: ignore[no-untyped-def]
    store(quote(asset_data("bitcoin", "BTC", 1), 1.0))
    body = api_client.get("/api/v1/etl/status").json()
    assert body["jobs_total"] >= 5 and body["quotes_stale"] is False and body["assets"] == 1


# --- whole market ----------------------------------------------------------------------


def test_global_comes_from_the_provider_through_the_background_refresh(api_client, monkeypatch):  # type: ignore[no-untyped-def]
    calls = []
    now = datetime.now(UTC)

    def fetch_global():  # type: ignore[no-untyped-def]
        calls.append(1)
        return GlobalData(2.5e12, 9e10, 1.5, {"btc": 50.0}, 10000, 800, "coingecko", now, now)

    monkeypatch.setattr(providers, "fetch_global", fetch_global)
    monkeypatch.setattr(providers, "fetch_trending", lambda: [])
    assert services.market_overview_refresh()["global"] == "ok"  # the task's body
    body = api_client.get("/api/v1/market/global").json()
    api_client.get("/api/v1/market/global")
    assert calls == [1]  # reads never call the provider
    assert body["total_market_cap"] == 2.5e12 and body["dominance"] == {"btc": 50.0}
    assert (
        body["source"] == "coingecko" and body["stale"] is False and body["fallback_reason"] == ""
    )


def test_global_never_waits_on_the_provider_and_queues_one_refresh(api_client, monkeypatch):  # type: ignore[no-untyped-def]
    def must_not_be_called():  # type: ignore[no-untyped-def]
        raise AssertionError("a read called the provider")

    queued = []
    monkeypatch.setattr(providers, "fetch_global", must_not_be_called)
    monkeypatch.setattr(
        "markets.services.overview.task_send_on_commit",
        lambda name, **kw: queued.append(name) or "id",
    )
    store(quote(asset_data("bitcoin", "BTC", 1), 1.0, market_cap=600.0, volume_24h=10.0))
    api_client.get("/api/v1/market/global")
    api_client.get("/api/v1/market/global")
    assert queued == ["markets.refresh_market_overview"]  # once per window, not per request


def test_global_falls_back_to_stored_quotes_with_the_reason(api_client, monkeypatch):  # type: ignore[no-untyped-def]
    def down():  # type: ignore[no-untyped-def]
        raise ProviderError("coingecko", "429 rate limited")

    monkeypatch.setattr(providers, "fetch_global", down)
    monkeypatch.setattr(providers, "fetch_trending", down)
    store(
        quote(asset_data("bitcoin", "BTC", 1), 1.0, market_cap=600.0, volume_24h=10.0),
        quote(asset_data("ethereum", "ETH", 2), 1.0, market_cap=400.0, volume_24h=5.0),
    )
    services.market_overview_refresh()
    body = api_client.get("/api/v1/market/global").json()
    assert body["source"] == "database"
    assert "429 rate limited" in body["fallback_reason"]
    assert body["total_market_cap"] == 1000.0 and body["dominance"] == {"btc": 60.0, "eth": 40.0}


def test_global_without_any_market_cap_says_null_not_zero(api_client):  # type: ignore[no-untyped-def]
    store(quote(asset_data("bitcoin", "BTC", 1), 1.0))
    body = api_client.get("/api/v1/market/global").json()
    assert body["total_market_cap"] is None and body["dominance"] == {}


def test_trending_falls_back_to_top_gainers(api_client, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        providers,
        "fetch_trending",
        lambda: (_ for _ in ()).throw(ProviderError("coingecko", "timeout")),
    )
    monkeypatch.setattr(
        providers, "fetch_global", lambda: (_ for _ in ()).throw(ProviderError("coingecko", "x"))
    )
    store(
        quote(asset_data("bitcoin", "BTC", 1), 1.0, change_24h=1.0),
        quote(asset_data("dogecoin", "DOGE", 8), 1.0, change_24h=9.0),
    )
    services.market_overview_refresh()
    body = api_client.get("/api/v1/market/trending").json()
    assert [c["id"] for c in body["coins"]] == ["dogecoin", "bitcoin"]
    assert body["source"] == "database" and "timeout" in body["fallback_reason"]


def test_trending_from_the_provider(api_client, monkeypatch):  # type: ignore[no-untyped-def]
    coin = TrendingCoin(AssetData("pepe", "PEPE", "Pepe", 30), score=0)
    monkeypatch.setattr(providers, "fetch_trending", lambda: [coin])
    monkeypatch.setattr(
        providers, "fetch_global", lambda: (_ for _ in ()).throw(ProviderError("coingecko", "x"))
    )
    services.market_overview_refresh()
    body = api_client.get("/api/v1/market/trending").json()
    assert body["coins"][0]["id"] == "pepe" and body["source"] == "coingecko"


def test_market_data_combines_global_and_top_assets(api_client, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        providers, "fetch_global", lambda: (_ for _ in ()).throw(ProviderError("coingecko", "down"))
    )
    store(quote(asset_data("bitcoin", "BTC", 1), 1.0), quote(asset_data("ethereum", "ETH", 2), 2.0))
    body = api_client.get("/api/v1/market/data", {"limit": 1}).json()
    assert [a["id"] for a in body["assets"]] == ["bitcoin"]
    assert body["market"]["source"] == "database"
    assert api_client.get("/api/v1/market/data", {"limit": 0}).status_code == 400
