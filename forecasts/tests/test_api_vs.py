"""``/forecasts?vs=``: point, bands and last close in another currency at today's rate, with
the rate's provenance; skill figures unchanged; unknown currency a 400 naming ``vs``; the cache
keyed by currency. The EUR rate is hand-made."""

from __future__ import annotations

from datetime import date

import pytest

from forecasts import services

from .conftest import train_fast

pytestmark = pytest.mark.django_db
URL = "/api/v1/forecasts"
EUR = 0.8  # hand-made


@pytest.fixture
def issued(coins, artifacts):
    from fx.contracts import DailyRates
    from fx.services import rates_store

    train_fast("BTC,ETH", "naive,drift")
    services.generate_forecasts(symbols="BTC,ETH", models="naive,drift,auto", days=3)
    rates_store(
        days=[DailyRates(day=date(2025, 7, 4), rates=(("eur", EUR),), source="frankfurter")]
    )


def test_forecast_in_eur_converts_points_and_bands_not_skill(api_client, issued):
    params = {"ids": "bitcoin", "days": 3, "model": "drift"}
    usd = api_client.get(URL, params).json()
    eur = api_client.get(URL, {**params, "vs": "EUR"}).json()
    assert "vs" not in usd and eur["vs"] == "eur"
    u, e = usd["data"][0], eur["data"][0]
    assert (e["vs"], e["rate"], e["rate_source"]) == ("eur", EUR, "frankfurter")
    assert e["rate_as_of"] == "2025-07-04T00:00:00Z"
    assert e["last_close"] == pytest.approx(u["last_close"] * EUR)
    for pu, pe in zip(u["points"], e["points"], strict=True):
        assert pe["point"] == pytest.approx(pu["point"] * EUR)
        for level in ("80", "90", "95"):
            assert pe["lower"][level] == pytest.approx(pu["lower"][level] * EUR)
            assert pe["upper"][level] == pytest.approx(pu["upper"][level] * EUR)
    assert e["skill"] == u["skill"] and e["naive_skill"] == u["naive_skill"]  # ratios


def test_forecast_in_a_coin_uses_our_price_of_it(api_client, issued):
    from markets import selectors as market_selectors
    from markets.tests.data_helpers import asset_data, quote, store

    store(quote(asset_data("ethereum", "ETH", 2), 2000.0))
    rate = market_selectors.currency_rate("eth")
    usd = api_client.get(URL, {"ids": "bitcoin", "model": "naive"}).json()["data"][0]
    eth = api_client.get(URL, {"ids": "bitcoin", "model": "naive", "vs": "eth"}).json()["data"][0]
    assert eth["points"][0]["point"] == pytest.approx(usd["points"][0]["point"] / 2000.0)
    assert eth["rate_source"] == rate.source


def test_unknown_currency_is_a_400_naming_vs(api_client, issued):
    r = api_client.get(URL, {"ids": "bitcoin", "vs": "xyz"})
    assert r.status_code == 400
    ((attr, detail),) = [(e["attr"], e["detail"]) for e in r.json()["errors"]]
    assert attr == "vs" and "eur" in detail and "usd" in detail


def test_cache_is_keyed_by_currency(api_client, issued, django_assert_num_queries):
    params = {"ids": "bitcoin", "model": "naive"}
    usd = api_client.get(URL, params).content
    eur = api_client.get(URL, {**params, "vs": "eur"}).content
    assert usd != eur
    with django_assert_num_queries(0):  # both warm, each under its own key
        assert api_client.get(URL, params).content == usd
        assert api_client.get(URL, {**params, "vs": "eur"}).content == eur
