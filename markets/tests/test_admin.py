"""markets.admin: actions enqueue the services' tasks on commit; the lists answer."""

from __future__ import annotations

import pytest

from markets.tests.data_helpers import make_asset

pytestmark = pytest.mark.django_db


def test_admin_actions_enqueue_resync_and_backfill(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):  # type: ignore[no-untyped-def]
    from celery import current_app

    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        current_app, "send_task", lambda name, kwargs=None, **o: sent.append((name, kwargs))
    )
    make_asset("bitcoin", "BTC", 1, binance_symbol="BTCUSDT")
    url = "/admin/markets/asset/"
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(url, {"action": "resync_quotes", "_selected_action": ["bitcoin"]})
        admin_client.post(
            url,
            {
                "action": "backfill_candles",
                "_selected_action": ["bitcoin"],
                "interval": "1h",
                "since": "2024-01-01",
            },
        )
    assert sent[0] == ("markets.sync_assets", {"asset_ids": ["bitcoin"]})
    assert sent[1][0] == "markets.backfill_candles"
    assert sent[1][1]["interval"] == "1h" and sent[1][1]["since"].startswith("2024-01-01")
    assert admin_client.get(url, {"q": "BTC"}).status_code == 200
    assert admin_client.get("/admin/markets/candle/", {"interval": "1d"}).status_code == 200
    assert admin_client.get("/admin/markets/quote/").status_code == 200
