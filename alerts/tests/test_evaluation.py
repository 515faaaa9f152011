"""Evaluation through the service: bulk loads, idempotency, no data, the quote listener."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alerts import services, tasks
from alerts.models import Alert, AlertEvent, AlertState, Delivery, Notification
from alerts.tests.conftest import store_prices

pytestmark = pytest.mark.django_db


def _alert(user, coin="bitcoin", kind="crosses_above", params=None, **kw):
    return services.alert_create(
        user=user, asset_id=coin, kind=kind, params=params or {"value": 100.0}, **kw
    )


def test_a_crossing_fires_once_and_rerunning_the_evaluation_never_fires_twice(user, coins):
    alert = _alert(user)
    store_prices({"bitcoin": 95.0})
    services.alerts_evaluate(asset_ids=["bitcoin"])
    assert not AlertEvent.objects.exists()  # first observation: no crossing
    store_prices({"bitcoin": 105.0})
    first = services.alerts_evaluate(asset_ids=["bitcoin"])
    again = services.alerts_evaluate(asset_ids=["bitcoin"])
    sweep = services.alerts_evaluate(asset_ids=None)
    assert (first.fired, again.fired, sweep.fired) == (1, 0, 0)
    event = AlertEvent.objects.get()
    assert (event.from_state, event.to_state, event.source) == ("normal", "firing", "replay")
    assert event.values["price"] == 105.0 and event.as_of is not None
    assert Notification.objects.filter(user=user, event=event).count() == 1
    assert AlertState.objects.get(alert=alert).state == "firing"


def test_a_stale_feed_is_no_data_and_never_fires(user, coins):
    _alert(user, kind="greater_than", stale_seconds=300)
    old = datetime.now(UTC) - timedelta(minutes=10)
    store_prices({"bitcoin": 500.0}, at=old)
    report = services.alerts_evaluate(asset_ids=None)
    assert report.fired == 0
    assert AlertState.objects.get().state == "no_data"
    assert AlertEvent.objects.get().to_state == "no_data"
    assert not Notification.objects.exists()


def test_a_watchlist_alert_evaluates_each_coin_on_its_own(user, coins):
    wl = services.watchlist_create(user=user, name="majors", coins=["BTC", "ETH", "SOL"])
    services.alert_create(user=user, watchlist=wl, kind="greater_than", params={"value": 1000.0})
    store_prices({"bitcoin": 50000.0, "ethereum": 3000.0, "solana": 150.0})
    report = services.alerts_evaluate(asset_ids=["bitcoin", "ethereum", "solana"])
    assert report.pairs == 3 and report.fired == 2
    assert set(AlertEvent.objects.filter(notified=True).values_list("asset_id", flat=True)) == {
        "bitcoin",
        "ethereum",
    }


def test_only_the_coins_that_moved_are_evaluated(user, coins):
    _alert(user, coin="bitcoin", kind="greater_than")
    _alert(user, coin="ethereum", kind="greater_than")
    store_prices({"bitcoin": 500.0, "ethereum": 500.0})
    report = services.alerts_evaluate(asset_ids=["ethereum"])
    assert report.pairs == 1
    assert list(AlertState.objects.values_list("asset_id", flat=True)) == ["ethereum"]


def test_pending_period_fires_from_the_sweep_once_it_has_held(user, coins):
    _alert(user, kind="greater_than", for_seconds=300)
    t0 = datetime.now(UTC)
    with time_machine.travel(t0, tick=False):
        store_prices({"bitcoin": 500.0})
        services.alerts_evaluate(asset_ids=["bitcoin"])
    assert AlertState.objects.get().state == "pending"
    with time_machine.travel(t0 + timedelta(seconds=301), tick=False):
        report = services.alerts_evaluate(asset_ids=None)
    assert report.fired == 1 and AlertState.objects.get().state == "firing"


def test_expired_and_paused_alerts_are_not_evaluated(user, coins):
    a = _alert(user, kind="greater_than", expires_at=datetime.now(UTC) + timedelta(hours=1))
    b = _alert(user, kind="greater_than")
    services.alert_update(alert=b, status="paused")
    store_prices({"bitcoin": 500.0})
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=2), tick=False):
        report = services.alerts_evaluate(asset_ids=None)
    a.refresh_from_db()
    assert a.status == "expired" and report.expired == 1 and report.fired == 0


def test_once_alerts_complete_after_firing(user, coins):
    alert = _alert(user, kind="greater_than", trigger="once")
    store_prices({"bitcoin": 500.0})
    services.alerts_evaluate(asset_ids=["bitcoin"])
    alert.refresh_from_db()
    assert alert.status == Alert.Status.COMPLETED


def _queries(n_alerts: int, user, coins) -> int:
    Alert.objects.all().delete()
    for i in range(n_alerts):
        _alert(
            user,
            coin=["bitcoin", "ethereum"][i % 2],
            kind="greater_than",
            params={"value": 100.0 + i},
        )
    store_prices({"bitcoin": 10_000.0, "ethereum": 10_000.0})
    with CaptureQueriesContext(connection) as ctx:
        services.alerts_evaluate(asset_ids=["bitcoin", "ethereum"])
    return len(ctx.captured_queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_alerts(user, coins, settings):
    settings.ALERTS_MAX_PER_USER = 1000
    few, many = _queries(4, user, coins), _queries(60, user, coins)
    assert few == many, (few, many)


def test_a_quote_write_enqueues_evaluation_of_the_moved_coins_on_commit(
    coins, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        store_prices({"bitcoin": 100.0, "ethereum": 50.0})
    assert ("evaluate_assets", {"asset_ids": ["bitcoin", "ethereum"]}) in enqueued


def test_a_dead_broker_does_not_break_the_quote_write(
    coins, task_stub, django_capture_on_commit_callbacks
):
    from markets.models import Quote

    def down(*a, **kw):
        raise ConnectionError("broker down")

    task_stub("alerts.evaluate_assets", down)
    with django_capture_on_commit_callbacks(execute=True):
        store_prices({"bitcoin": 100.0})
    assert Quote.objects.filter(asset_id="bitcoin").exists()


def test_the_evaluation_task_and_the_sweep_call_the_service(user, coins, published):
    _alert(user, kind="greater_than")
    store_prices({"bitcoin": 500.0})
    assert tasks.evaluate_assets.run(asset_ids=["bitcoin"])["fired"] == 1
    out = tasks.sweep.run()
    assert out["fired"] == 0 and out["deliveries"] == 1  # the push row, delivered by the sweep
    assert Delivery.objects.get().status == "sent" and len(published) == 1


def test_dry_run_says_whether_it_would_fire_and_why_without_writing(user, coins):
    alert = _alert(user, kind="greater_than")
    store_prices({"bitcoin": 500.0})
    [run] = services.alert_dry_run(alert=alert)
    assert run.would_fire and "500" in run.reason and run.source == "replay"
    assert not AlertEvent.objects.exists()
