"""Spreadsheet downloads leave an audit row (issue 14: "data exports" among the audited
actions): core.tabular announces them, accounts writes the row."""

from __future__ import annotations

import pytest

from accounts.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_signed_in_users_spreadsheet_download_is_audited_and_an_anonymous_one_is_not(
    api_client, user
):  # type: ignore[no-untyped-def]
    """'Data exports' in the issue's list: ?format=csv|xlsx downloads by a signed-in user."""
    from alerts import services as alert_services
    from markets.tests.data_helpers import asset_data, quote, store

    store(quote(asset_data("bitcoin", "BTC", 1), 100.0))
    alert = alert_services.alert_create(
        user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1}
    )
    api_client.get("/api/v1/cryptocurrencies/", {"format": "csv"})
    assert not AuditEvent.objects.filter(action="data.table_export").exists()
    api_client.force_authenticate(user)
    assert api_client.get("/api/v1/cryptocurrencies/", {"format": "xlsx"}).status_code == 200
    events = api_client.get(
        f"/api/v1/alerts/{alert.pk}/events",
        {"format": "csv"},  # the default range: the year before now
    )
    assert events.status_code == 200
    rows = list(AuditEvent.objects.filter(action="data.table_export").order_by("created_at"))
    assert [(r.user_id, r.data["format"], r.data["path"]) for r in rows] == [
        (user.pk, "xlsx", "/api/v1/cryptocurrencies/"),
        (user.pk, "csv", f"/api/v1/alerts/{alert.pk}/events"),
    ]
    assert rows[0].data["rows"] == 1 and rows[1].data["rows"] is None
