"""The hooks alerts registers with the apps below it (from ``AlertsConfig.ready()``): its
section of the user's data export (accounts), watched coins in the tracked set (forecasts),
and evaluation on every issue of forecasts (forecasts' listener)."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from alerts import services
from alerts.models import AlertEvent, AlertState, Delivery, Webhook
from alerts.tests.conftest import store_prices

pytestmark = pytest.mark.django_db


# --- data export ---------------------------------------------------------------------------
@pytest.fixture
def export_dir(tmp_path, settings):
    settings.ACCOUNTS_EXPORT_DIR = tmp_path / "exports"
    return settings.ACCOUNTS_EXPORT_DIR


def _export(user) -> zipfile.ZipFile:
    from accounts.services import data_export_build, data_export_file, data_export_request

    export = data_export_request(user=user)
    built = data_export_build(export_id=str(export.id))
    assert built is not None and built.status == "ready", built and built.error
    path, _ = data_export_file(user=user, export_id=str(export.id))
    return zipfile.ZipFile(path)


def test_a_users_export_holds_their_watchlists_alerts_events_notifications_and_webhooks(
    user, other_user, coins, export_dir, settings
):
    settings.ALERTS_WEBHOOK_ALLOW_HTTP = True
    settings.ALERTS_WEBHOOK_ALLOW_PRIVATE = True
    mine = services.watchlist_create(user=user, name="majors", coins=["bitcoin", "ethereum"])
    services.watchlist_create(user=other_user, name="theirs", coins=["solana"])
    hook = services.webhook_create(user=user, url="http://127.0.0.1:9/hook")
    services.webhook_create(user=other_user, url="http://127.0.0.1:9/other")
    alert = services.alert_create(
        user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1}
    )
    services.alert_create(
        user=other_user, asset_id="bitcoin", kind="greater_than", params={"value": 1}
    )
    store_prices({"bitcoin": 500.0})
    services.alerts_evaluate(asset_ids=["bitcoin"])

    archive = _export(user)
    assert "alerts.json" in archive.namelist()
    assert "alerts.json" in json.loads(archive.read("manifest.json"))["files"]
    data = json.loads(archive.read("alerts.json"))
    assert [(w["id"], w["name"], w["coins"]) for w in data["watchlists"]] == [
        (mine.pk, "majors", ["bitcoin", "ethereum"])
    ]
    assert [(a["id"], a["kind"], a["params"]) for a in data["alerts"]] == [
        (alert.pk, "greater_than", {"value": 1})
    ]
    [event] = data["events"]
    assert event["alert_id"] == alert.pk and event["to_state"] == "firing"
    assert event["source"] == "replay" and event["as_of"]
    [note] = data["notifications"]
    assert note["event_id"] == event["id"]
    [exported_hook] = data["webhooks"]
    assert exported_hook["id"] == hook.pk and exported_hook["url"] == hook.url
    webhook_rows = Delivery.objects.filter(webhook=hook).count()
    assert len(exported_hook["deliveries"]) == webhook_rows == 1
    # no secret anywhere in the archive, and nothing of the other user's
    secrets = list(Webhook.objects.values_list("secret", flat=True))
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert all(s.encode() not in everything for s in secrets)
    assert b"theirs" not in everything and b"/other" not in everything


def test_an_export_of_a_user_without_alerts_has_empty_sections(user, export_dir):
    data = json.loads(_export(user).read("alerts.json"))
    assert data["watchlists"] == data["alerts"] == data["webhooks"] == []
    assert data["events"] == data["notifications"] == [] and data["preferences"] is None


# --- tracked assets ------------------------------------------------------------------------
def test_a_watched_coin_is_in_the_forecasts_tracked_set(user, coins, settings):
    from forecasts.services import tracked_assets

    settings.FORECAST_TOP_N = 0  # nothing tracked by rank or by default
    settings.FORECAST_DEFAULT_SYMBOLS = []
    assert [a.pk for a in tracked_assets()] == []
    services.watchlist_create(user=user, name="alts", coins=["solana"])
    assert [a.pk for a in tracked_assets()] == ["solana"]


def test_a_forecast_alert_tracks_its_coin_until_it_is_deleted(user, coins, settings):
    from forecasts.services import tracked_assets

    settings.FORECAST_TOP_N = 0
    settings.FORECAST_DEFAULT_SYMBOLS = []
    alert = services.alert_create(user=user, asset_id="ethereum", kind="forecast_band_exit")
    services.alert_create(user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1})
    assert [a.pk for a in tracked_assets()] == ["ethereum"]  # a price alert needs no forecast
    services.alert_delete(alert=alert)
    assert [a.pk for a in tracked_assets()] == []


# --- evaluation on every issue of forecasts ------------------------------------------------
@pytest.fixture
def daily_candles(coins, tmp_path, settings):
    """20 flat-ish daily candles of bitcoin ending yesterday (hand-made), no trained models:
    ``auto`` serves the built-in naive forecast."""
    from markets import selectors as market_selectors
    from markets.contracts import CandleData
    from markets.services import candles_upsert
    from mlserving import services as ml_services

    settings.MODEL_ARTIFACTS_DIR = tmp_path / "artifacts"
    settings.MODEL_ARTIFACTS_DIR.mkdir()
    ml_services.reset_caches()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    candles = [
        CandleData(
            open_time=today - timedelta(days=20 - i),
            open=100.0,
            high=101.0 + i % 3,
            low=99.0 - i % 2,
            close=100.0 + (i % 5 - 2) * 0.5,
            volume=1_000.0,
            source="test",
        )
        for i in range(20)
    ]
    candles_upsert(asset=market_selectors.asset_get("bitcoin"), interval="1d", candles=candles)
    yield
    ml_services.reset_caches()


def test_issuing_forecasts_enqueues_evaluation_and_a_band_exit_fires(
    user, daily_candles, enqueued, published, django_capture_on_commit_callbacks
):
    from alerts import tasks
    from forecasts.services import generate_forecasts

    alert = services.alert_create(user=user, asset_id="bitcoin", kind="forecast_band_exit")
    store_prices({"bitcoin": 1_000.0})  # far outside any band around 100
    enqueued.clear()
    tasks.evaluate_assets(asset_ids=["bitcoin"])
    assert AlertState.objects.get(alert=alert).state == "no_data"  # no forecast yet

    with django_capture_on_commit_callbacks(execute=True):
        report = generate_forecasts(symbols="BTC", models="auto", days=1)
    assert report.created == 1
    assert ("evaluate_assets", {"asset_ids": ["bitcoin"]}) in enqueued
    assert any(c["channel"] == "forecasts:bitcoin" for c in published)

    [(_, kwargs)] = [e for e in enqueued if e[0] == "evaluate_assets"]
    assert tasks.evaluate_assets(**kwargs)["fired"] == 1
    event = AlertEvent.objects.get(alert=alert, notified=True)
    assert event.to_state == "firing" and "outside the 90% band" in event.reason
    # issuing the same forecast again creates nothing and fires nothing
    enqueued.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_forecasts(symbols="BTC", models="auto", days=1).created == 0
    assert tasks.evaluate_assets(asset_ids=["bitcoin"])["fired"] == 0
    assert AlertEvent.objects.filter(notified=True).count() == 1


def test_a_failing_forecast_listener_never_breaks_the_issue(
    daily_candles, task_stub, django_capture_on_commit_callbacks
):
    from forecasts.models import Forecast
    from forecasts.services import generate_forecasts

    def down(*a, **kw):
        raise ConnectionError("broker down")

    task_stub("alerts.evaluate_assets", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert generate_forecasts(symbols="BTC", models="auto", days=1).created == 1
    assert Forecast.objects.count() == 1
