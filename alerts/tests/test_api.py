"""The REST API: happy paths, 400s that name the field, 401s, query counts, and a cross-user
test that enumerates every detail route of the URL conf (a route added later is covered)."""

from __future__ import annotations

import pytest
from django.urls import URLPattern

from alerts import services, urls
from alerts.models import Notification, Webhook
from alerts.tests.conftest import store_prices

pytestmark = pytest.mark.django_db


def _errors(resp):
    return {e["attr"] for e in resp.json()["errors"]}


def test_watchlist_crud_with_ordered_coins(auth_client, coins):
    body = {"name": "majors", "coins": ["ETH", "bitcoin"]}
    r = auth_client.post("/api/v1/watchlist", body, format="json")
    assert r.status_code == 201, r.content
    wl = r.json()
    assert [c["id"] for c in wl["coins"]] == ["ethereum", "bitcoin"]
    r = auth_client.patch(f"/api/v1/watchlist/{wl['id']}", {"coins": ["SOL"]}, format="json")
    assert [c["id"] for c in r.json()["coins"]] == ["solana"] and r.json()["name"] == "majors"
    body = {"name": "alts", "coins": ["ETH"]}
    r = auth_client.put(f"/api/v1/watchlist/{wl['id']}", body, format="json")
    assert r.json()["name"] == "alts"
    assert auth_client.get("/api/v1/watchlist").json()["count"] == 1
    assert auth_client.delete("/api/v1/watchlist/crypto/ETH").status_code == 204
    assert auth_client.get(f"/api/v1/watchlist/{wl['id']}").json()["coins"] == []
    assert auth_client.delete(f"/api/v1/watchlist/{wl['id']}").status_code == 204
    assert auth_client.get(f"/api/v1/watchlist/{wl['id']}").status_code == 404


def test_unknown_coins_are_a_400_naming_them_and_nothing_is_written(auth_client, coins):
    body = {"name": "x", "coins": ["BTC", "NOPECOIN"]}
    r = auth_client.post("/api/v1/watchlist", body, format="json")
    assert r.status_code == 400 and _errors(r) == {"coins"}
    assert "NOPECOIN" in r.json()["errors"][0]["detail"]
    assert auth_client.get("/api/v1/watchlist").json()["count"] == 0


def test_alert_lifecycle_create_filter_pause_test_events_delete(auth_client, user, coins):
    r = auth_client.post(
        "/api/v1/alerts",
        {"coin": "BTC", "kind": "greater_than", "params": {"value": 100}, "name": "moon"},
        format="json",
    )
    assert r.status_code == 201, r.content
    alert = r.json()
    assert alert["coin"] == "bitcoin" and alert["description"].endswith("greater than 100")
    store_prices({"bitcoin": 150.0})
    services.alerts_evaluate(asset_ids=["bitcoin"])
    assert auth_client.get("/api/v1/alerts?state=firing").json()["count"] == 1
    assert auth_client.get("/api/v1/alerts?coin=ETH").json()["count"] == 0
    assert auth_client.get("/api/v1/alerts?coin=BTC").json()["count"] == 1
    assert auth_client.get("/api/v1/alerts?kind=less_than").json()["count"] == 0
    assert auth_client.get("/api/v1/alerts?state=bogus").status_code == 400
    assert auth_client.get("/api/v1/alerts/crypto/BTC").json()["count"] == 1
    detail = auth_client.get(f"/api/v1/alerts/{alert['id']}").json()
    assert detail["recent_events"][0]["to_state"] == "firing"
    assert detail["recent_events"][0]["source"] == "replay"
    assert detail["recent_events"][0]["as_of"]
    events = auth_client.get(f"/api/v1/alerts/{alert['id']}/events").json()
    assert events["count"] == 1
    dry = auth_client.post(f"/api/v1/alerts/{alert['id']}/test").json()
    assert dry[0]["coin"] == "bitcoin" and dry[0]["signal"] == "match"
    r = auth_client.patch(f"/api/v1/alerts/{alert['id']}", {"status": "paused"}, format="json")
    assert r.json()["status"] == "paused"
    assert auth_client.delete(f"/api/v1/alerts/{alert['id']}").status_code == 204


@pytest.mark.parametrize(
    ("body", "attr"),
    [
        ({"coin": "BTC", "kind": "greater_than", "params": {"value": -1}}, "params.value"),
        ({"coin": "BTC", "kind": "greater_than", "params": {}}, "params.value"),
        (
            {"coin": "BTC", "kind": "pct_move", "params": {"window": "2h", "percent": 5}},
            "params.window",
        ),
        ({"coin": "BTC", "kind": "enters_range", "params": {"low": 5, "high": 1}}, "params.high"),
        ({"coin": "BTC", "kind": "nope", "params": {}}, "kind"),
        ({"coin": "NOPECOIN", "kind": "greater_than", "params": {"value": 1}}, "coin"),
        ({"kind": "greater_than", "params": {"value": 1}}, "coin"),
        (
            {"coin": "BTC", "kind": "greater_than", "params": {"value": 1}, "hysteresis_pct": 80},
            "hysteresis_pct",
        ),
        (
            {
                "coin": "BTC",
                "kind": "forecast_prob_above",
                "params": {"value": 1, "horizon": 7, "probability": 1.5},
            },
            "params.probability",
        ),
    ],
)
def test_bad_alerts_are_a_400_naming_the_field(auth_client, coins, body, attr):
    r = auth_client.post("/api/v1/alerts", body, format="json")
    assert r.status_code == 400, r.content
    assert attr in _errors(r)
    assert auth_client.get("/api/v1/alerts").json()["count"] == 0


def test_per_user_limits_are_a_clear_400(auth_client, coins, settings):
    settings.ALERTS_MAX_PER_USER = 1
    body = {"coin": "BTC", "kind": "greater_than", "params": {"value": 1}}
    assert auth_client.post("/api/v1/alerts", body, format="json").status_code == 201
    r = auth_client.post("/api/v1/alerts", body, format="json")
    assert r.status_code == 400 and "At most 1" in r.json()["errors"][0]["detail"]


def test_notifications_inbox_read_and_read_all(auth_client, user, coins, published):
    services.alert_create(user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1})
    services.alert_create(user=user, asset_id="ethereum", kind="greater_than", params={"value": 1})
    store_prices({"bitcoin": 5.0, "ethereum": 5.0})
    services.alerts_evaluate(asset_ids=["bitcoin", "ethereum"])
    body = auth_client.get("/api/v1/notifications").json()
    assert body["count"] == 2 and body["unread"] == 2
    first = body["results"][0]["id"]
    assert auth_client.post(f"/api/v1/notifications/{first}/read").json()["read"] is True
    assert auth_client.get("/api/v1/notifications/unread-count").json() == {"unread": 1}
    assert auth_client.get("/api/v1/notifications?unread=true").json()["count"] == 1
    assert auth_client.post("/api/v1/notifications/read-all").json() == {"marked": 1}


def test_preferences_and_webhooks(auth_client):
    r = auth_client.patch(
        "/api/v1/notifications/preferences", {"email": True, "daily_digest": True}, format="json"
    )
    assert r.json()["email"] is True and r.json()["daily_digest"] is True
    r = auth_client.patch(
        "/api/v1/notifications/preferences", {"quiet_start": "22:00"}, format="json"
    )
    assert r.status_code == 400 and _errors(r) == {"quiet_end"}
    r = auth_client.post(
        "/api/v1/notifications/webhooks", {"url": "https://10.0.0.1/x"}, format="json"
    )
    assert r.status_code == 400 and _errors(r) == {"url"}
    r = auth_client.post(
        "/api/v1/notifications/webhooks", {"url": "https://93.184.216.34/x"}, format="json"
    )
    assert r.status_code == 201 and len(r.json()["secret"]) > 20
    hook = r.json()["id"]
    listed = auth_client.get("/api/v1/notifications/webhooks").json()["results"][0]
    assert "secret" not in listed
    log = auth_client.get(f"/api/v1/notifications/webhooks/{hook}/deliveries").json()
    assert log["count"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/watchlist",
        "/api/v1/alerts",
        "/api/v1/notifications",
        "/api/v1/notifications/webhooks",
        "/api/v1/notifications/preferences",
    ],
)
def test_anonymous_clients_get_401(api_client, path):
    r = api_client.get(path)
    assert r.status_code == 401 and r.json()["type"] == "client_error"


def test_list_query_counts_do_not_grow_with_rows(
    auth_client, user, coins, django_assert_max_num_queries
):
    for i in range(15):
        services.alert_create(
            user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1 + i}
        )
    with django_assert_max_num_queries(8):
        assert auth_client.get("/api/v1/alerts").json()["count"] == 15
    services.watchlist_create(user=user, name="a", coins=["BTC", "ETH", "SOL"])
    services.watchlist_create(user=user, name="b", coins=["BTC"])
    with django_assert_max_num_queries(6):
        auth_client.get("/api/v1/watchlist")
    with django_assert_max_num_queries(6):
        auth_client.get("/api/v1/notifications")


# --- cross-user: every detail route of the URL conf ------------------------------------------
def _owned_objects(user):
    wl = services.watchlist_create(user=user, name="mine", coins=["BTC"])
    alert = services.alert_create(
        user=user, asset_id="bitcoin", kind="greater_than", params={"value": 1}
    )
    store_prices({"bitcoin": 5.0})
    services.alerts_evaluate(asset_ids=["bitcoin"])
    note = Notification.objects.get(user=user)
    hook = Webhook.objects.create(user=user, url="https://93.184.216.34/x")
    return {"watchlist": wl.pk, "alert": alert.pk, "notification": note.pk, "webhook": hook.pk}


def _owner_key(name: str) -> str:
    if "webhook" in name:
        return "webhook"
    return name.split("-")[0]


def test_every_detail_route_is_a_404_for_another_user_for_every_method(
    api_client, user, other_user, coins
):
    owned = _owned_objects(user)
    routes = [
        p for p in urls.urlpatterns if isinstance(p, URLPattern) and "<int:pk>" in str(p.pattern)
    ]
    assert len(routes) >= 7
    api_client.force_authenticate(user=other_user)
    checked = 0
    for route in routes:
        path = "/api/v1/" + str(route.pattern).replace(
            "<int:pk>", str(owned[_owner_key(route.name)])
        )
        view = route.callback.view_class
        for method in ("get", "post", "put", "patch", "delete"):
            if not hasattr(view, method):
                continue
            r = getattr(api_client, method)(path, {}, format="json")
            assert r.status_code == 404, (method, path, r.status_code, r.content)
            assert r.json()["status"] == 404
            checked += 1
    assert checked >= 14
    # and the owner's objects are untouched
    api_client.force_authenticate(user=user)
    assert api_client.get(f"/api/v1/alerts/{owned['alert']}").status_code == 200
    assert api_client.get(f"/api/v1/watchlist/{owned['watchlist']}").status_code == 200
    assert Notification.objects.get(pk=owned["notification"]).read_at is None
    assert Webhook.objects.filter(pk=owned["webhook"]).exists()


def test_another_users_watchlist_cannot_be_the_target_of_an_alert(
    api_client, user, other_user, coins
):
    wl = services.watchlist_create(user=user, name="mine", coins=["BTC"])
    api_client.force_authenticate(user=other_user)
    r = api_client.post(
        "/api/v1/alerts",
        {"watchlist": wl.pk, "kind": "greater_than", "params": {"value": 1}},
        format="json",
    )
    assert r.status_code == 400 and _errors(r) == {"watchlist"}
    assert api_client.delete("/api/v1/watchlist/crypto/BTC").status_code == 404


@pytest.mark.parametrize(
    "model", ["watchlist", "alert", "alertevent", "delivery", "webhook", "anomaly"]
)
def test_staff_can_browse_the_admin_pages(client, staff_user, user, coins, model):
    _owned_objects(user)
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    assert client.get(f"/admin/alerts/{model}/").status_code == 200
