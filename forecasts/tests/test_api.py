from __future__ import annotations

import pytest

from forecasts import services

from .conftest import train_fast

pytestmark = pytest.mark.django_db
URL = "/api/v1/forecasts"


@pytest.fixture
def issued(coins, artifacts):
    train_fast("BTC,ETH", "naive,drift")
    services.generate_forecasts(symbols="BTC,ETH", models="naive,drift,auto", days=3)


def errors(response) -> list[tuple[str, str]]:
    body = response.json()
    assert body["type"] == "validation_error" and body["status"] == 400
    return [(e["attr"], e["detail"]) for e in body["errors"]]


def test_forecast_shape_with_intervals_and_skill_beside_naive(api_client, issued):
    r = api_client.get(URL, {"ids": "bitcoin,ethereum", "days": 3, "model": "drift"})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == "drift" and body["days"] == 3
    assert [c["id"] for c in body["data"]] == ["bitcoin", "ethereum"]
    coin = body["data"][0]
    assert coin["model"] == "drift" and coin["fallback"] is None
    assert (
        coin["version"].startswith("v")
        and coin["trained_at"]
        and coin["data_until"] == "2025-07-05"
    )
    assert set(coin["skill"]) >= {"rel_mae", "mase", "coverage"}
    assert coin["naive_skill"]["model"] == "naive" and coin["naive_skill"]["rel_mae"] == 1.0
    assert [p["date"] for p in coin["points"]] == ["2025-07-06", "2025-07-07", "2025-07-08"]
    for p in coin["points"]:
        assert set(p["lower"]) == set(p["upper"]) == {"80", "90", "95"}
        assert (
            p["lower"]["95"] <= p["lower"]["80"] < p["point"] < p["upper"]["80"] <= p["upper"]["95"]
        )


def test_days_limits_the_points(api_client, issued):
    r = api_client.get(URL, {"ids": "BTC", "days": 1, "model": "naive"})
    assert r.status_code == 200 and len(r.json()["data"][0]["points"]) == 1


def test_auto_names_the_model_of_each_point(api_client, issued):
    coin = api_client.get(URL, {"ids": "bitcoin", "model": "auto", "days": 3}).json()["data"][0]
    assert coin["requested_model"] == "auto"
    assert all(p["model"] in {"naive", "drift"} for p in coin["points"])
    assert all(p["version"] for p in coin["points"])


def test_model_never_issued_falls_back_to_naive_with_a_label(api_client, issued):
    coin = api_client.get(URL, {"ids": "bitcoin", "model": "tcn"}).json()["data"][0]
    assert coin["model"] == "naive"
    assert coin["fallback"] == "no tcn forecasts issued for bitcoin; served naive"
    assert coin["points"]


def test_expired_rows_are_not_served_at_request_time(api_client, issued, settings):
    settings.MODEL_MAX_AGE_DAYS = 0.000001  # every trained version is now too old
    coin = api_client.get(URL, {"ids": "bitcoin", "model": "drift", "days": 2}).json()["data"][0]
    assert coin["fallback"].startswith("drift@v") and "refused (expired)" in coin["fallback"]


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"days": 0}, "days"),
        ({"days": 31}, "days"),
        ({"days": "x"}, "days"),
        ({"model": "gpt"}, "model"),
        ({"ids": ","}, "ids"),
        ({"ids": "bitcoin,nosuchcoin"}, "ids"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(api_client, issued, params, attr):
    r = api_client.get(URL, {"ids": "bitcoin", **params})
    assert r.status_code == 400
    assert [a for a, _ in errors(r)] == [attr]


def test_models_catalogue_lists_versions_aliases_and_freshness(api_client, issued):
    body = api_client.get(f"{URL}/models").json()
    assert "ensemble" in body["model_types"] and "auto" in body["requestable"]
    btc = next(c for c in body["coins"] if c["key"] == "BTC")
    drift_m = next(m for m in btc["models"] if m["model"] == "drift")
    version = drift_m["versions"][0]
    assert drift_m["aliases"]["champion"] == version["version"]
    assert version["expired"] is False and version["age_days"] is not None
    assert len(version["sha256"]) == 64


def test_performance_puts_naive_beside_every_model(api_client, issued):
    r = api_client.get(f"{URL}/performance", {"ids": "bitcoin"})
    assert r.status_code == 200
    entries = r.json()["data"][0]["entries"]
    drift_m = [e for e in entries if e["model"] == "drift"]
    assert [e["horizon"] for e in drift_m] == [1, 2, 3]
    assert drift_m[0]["backtest"]["rel_mae"] is not None
    assert drift_m[0]["naive_backtest"]["rel_mae"] == 1.0
    assert "live" in drift_m[0] and "naive_live" in drift_m[0]


def test_performance_requires_known_ids_and_models(api_client, issued):
    assert errors(api_client.get(f"{URL}/performance"))[0][0] == "ids"
    r = api_client.get(f"{URL}/performance", {"ids": "bitcoin", "models": "gpt"})
    assert errors(r)[0][0] == "models"


def test_new_issue_is_served_at_once_despite_the_cache(
    api_client, coins, artifacts, django_capture_on_commit_callbacks
):
    services.generate_forecasts(symbols="BTC", models="naive", days=2)
    first = api_client.get(URL, {"ids": "bitcoin", "model": "drift", "days": 2}).json()
    assert first["data"][0]["model"] == "naive"  # nothing issued for drift yet
    from forecasts import response_cache

    response_cache.clear_l1()  # another process / the L1 TTL passing
    with django_capture_on_commit_callbacks(execute=True):  # the generation bump runs on commit
        services.generate_forecasts(symbols="BTC", models="drift", days=2)
    second = api_client.get(URL, {"ids": "bitcoin", "model": "drift", "days": 2}).json()
    assert second["data"][0]["requested_model"] == "drift"
    assert "no drift forecasts" not in (second["data"][0]["fallback"] or "")


def test_warm_request_makes_no_database_query(api_client, issued, django_assert_num_queries):
    api_client.get(URL, {"ids": "bitcoin", "model": "naive"})
    with django_assert_num_queries(0):
        assert api_client.get(URL, {"ids": "bitcoin", "model": "naive"}).status_code == 200


def test_a_warm_page_is_answered_before_drf_and_a_new_issue_replaces_it(
    client, coins, artifacts, django_assert_num_queries, django_capture_on_commit_callbacks
):
    services.generate_forecasts(symbols="BTC", models="naive", days=2)
    params = {"ids": "bitcoin", "model": "drift", "days": 2}
    first = client.get(URL, params)
    assert first.status_code == 200 and first["X-Cache"] == "miss"
    assert first.json()["data"][0]["model"] == "naive"  # nothing issued for drift yet
    with django_assert_num_queries(0):
        hit = client.get(URL, params)
    assert hit["X-Cache"] == "l1" and hit.content == first.content
    # a bad token is still checked, a spreadsheet is still a spreadsheet
    assert client.get(URL, params, HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    assert client.get(URL, {**params, "format": "csv"})["Content-Type"].startswith("text/csv")
    # a new issue bumps the generation on commit: the next request builds again, and has it
    with django_capture_on_commit_callbacks(execute=True):
        services.generate_forecasts(symbols="BTC", models="drift", days=2)
    fresh = client.get(URL, params)
    assert fresh["X-Cache"] == "miss" and fresh.json()["data"][0]["requested_model"] == "drift"


def test_cache_down_still_answers_from_the_database(api_client, issued, monkeypatch):
    from django.core.cache import cache

    def boom(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(cache, "get", boom)
    monkeypatch.setattr(cache, "set", boom)
    r = api_client.get(URL, {"ids": "bitcoin", "model": "drift", "days": 2})
    assert r.status_code == 200 and len(r.json()["data"][0]["points"]) == 2


def test_a_forecast_from_old_data_says_how_old_and_is_stale(api_client, issued, settings):
    """The sample candles end 2025-07-05; the server clock is far later (issue 12)."""
    coin = api_client.get(URL, {"ids": "BTC", "days": 1, "model": "naive"}).json()["data"][0]
    assert coin["origin_age_days"] > 30
    assert coin["stale"] is True and "2025-07-05" in coin["stale_reason"]


def test_a_recent_origin_is_not_stale(api_client, issued, settings):
    settings.FORECAST_STALE_AFTER_DAYS = 100_000
    coin = api_client.get(URL, {"ids": "BTC", "days": 1, "model": "naive"}).json()["data"][0]
    assert coin["stale"] is False and coin["stale_reason"] == ""


def test_an_unknown_id_is_an_error_and_never_a_cached_entry(api_client, coins, artifacts):
    from forecasts import response_cache
    from markets import services as market_services
    from markets.contracts import AssetData

    r = api_client.get(URL, {"ids": "solana", "model": "naive", "days": 1})
    assert errors(r) == [("ids", "Unknown coin id(s): solana.")]
    assert not any(":solana:" in k for k in response_cache._cache().l1_keys())
    market_services.assets_upsert(assets=[AssetData(slug="solana", symbol="SOL", name="Solana")])
    r = api_client.get(URL, {"ids": "solana", "model": "naive", "days": 1})
    assert r.status_code == 200 and r.json()["data"][0]["id"] == "solana"
