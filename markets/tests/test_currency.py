"""``vs=``: one conversion (``markets.currency``) on top of ``quote_payload``, in REST and the
CoinGecko-compatible API; unknown currencies are 400s listing the supported ones.
Rates and prices are hand-made (``cg_fixtures``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from markets import currency
from markets.tests.cg_fixtures import BTC_USD, ETH_USD, EUR_PER_USD, NOW, build_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def priced():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield build_store()


def test_convert_quote_adds_the_rates_provenance(priced):  # type: ignore[no-untyped-def]
    from markets.payloads import quote_payload

    eth = priced["ethereum"]
    datum = quote_payload(asset=eth, quote=eth.latest_quote, now=NOW)
    eur = currency.convert_quote(datum, currency.rate("eur"))
    assert eur["price"] == pytest.approx(ETH_USD * EUR_PER_USD)
    assert eur["market_cap"] == pytest.approx(3.0e11 * EUR_PER_USD)
    assert eur["change_24h"] == pytest.approx(2.0)  # daily fiat rates: no intraday re-basing
    assert (eur["vs"], eur["rate"], eur["rate_source"]) == ("eur", EUR_PER_USD, "frankfurter")
    assert eur["rate_as_of"] == "2024-03-01T00:00:00Z"
    assert eur["source"] == "coingecko"  # the datum's own provenance stays
    btc = currency.convert_quote(datum, currency.rate("btc"))
    assert btc["price"] == pytest.approx(ETH_USD / BTC_USD)
    assert btc["change_24h"] == pytest.approx((1.02 / 0.96 - 1) * 100)
    assert btc["rate_source"] == "coingecko"


def test_usd_is_the_identity(priced):  # type: ignore[no-untyped-def]
    from markets.payloads import quote_payload

    eth = priced["ethereum"]
    datum = quote_payload(asset=eth, quote=eth.latest_quote, now=NOW)
    assert currency.convert_quote(datum, currency.rate("USD"))["price"] == ETH_USD


def test_historical_rate_uses_that_days_rate(priced):  # type: ignore[no-untyped-def]
    from fx.contracts import DailyRates
    from fx.services import rates_store

    rates_store(
        days=[DailyRates(day=NOW.date() - timedelta(days=3), rates=(("eur", 0.5),), source="x")]
    )
    assert currency.rate("eur", at=NOW - timedelta(days=3)).per_usd == 0.5
    assert currency.rate("eur").per_usd == EUR_PER_USD
    f = currency.rate_series("eur", start=NOW - timedelta(days=5), end=NOW)
    assert f(NOW - timedelta(days=3) + timedelta(hours=5)) == 0.5
    assert f(NOW) == EUR_PER_USD


def test_old_fiat_rate_is_stale(priced):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW + timedelta(days=10), tick=False):
        assert currency.rate("eur").stale is True


def test_unknown_currency_lists_the_supported(priced):  # type: ignore[no-untyped-def]
    with pytest.raises(currency.UnknownCurrency) as info:
        currency.rate("xyz")
    assert {"usd", "eur", "myr", "btc", "eth", "usdt"} <= set(info.value.supported)


def test_prices_in_eur_and_btc_carry_the_rate(client, priced):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/prices", {"ids": "ethereum", "vs": "EUR"}).json()
        assert body["vs"] == "eur"
        d = body["data"]["ethereum"]
        assert d["price"] == pytest.approx(ETH_USD * EUR_PER_USD)
        assert d["rate_source"] == "frankfurter"
        btc = client.get("/api/v1/prices/market", {"vs": "btc", "limit": 2}).json()
        assert btc["data"][1]["price"] == pytest.approx(ETH_USD / BTC_USD)
        assert btc["data"][0]["price"] == pytest.approx(1.0)


def test_prices_with_an_unknown_currency_is_a_400_naming_vs(client, priced):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        response = client.get("/api/v1/prices", {"ids": "ethereum", "vs": "xyz"})
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["attr"] == "vs"
    assert "eur" in error["detail"] and "btc" in error["detail"]


def test_currencies_endpoint_lists_rates_with_provenance(client, priced):  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        body = client.get("/api/v1/currencies").json()
    by_code = {c["code"]: c for c in body["data"]}
    assert by_code["usd"]["rate"] == 1.0
    assert by_code["eur"] == {
        "code": "eur",
        "rate": EUR_PER_USD,
        "source": "frankfurter",
        "as_of": "2024-03-01T00:00:00Z",
        "stale": False,
    }
    assert by_code["btc"]["rate"] == pytest.approx(1 / BTC_USD)
    assert body["count"] == len(body["data"])


def test_without_rates_only_usd_and_crypto_are_supported(client):  # type: ignore[no-untyped-def]
    from markets.tests.data_helpers import asset_data, quote, store

    store(quote(asset_data("bitcoin", "BTC", 1), BTC_USD, as_of=datetime.now(UTC)))
    assert currency.supported_currencies() == ["btc", "usd"]
    assert client.get("/api/v1/prices", {"vs": "eur"}).status_code == 400


def test_a_cached_converted_body_is_served_by_the_fast_path(client, priced, monkeypatch):  # type: ignore[no-untyped-def]
    from markets import live

    with time_machine.travel(NOW, tick=False):
        first = client.get("/api/v1/prices", {"ids": "ethereum", "vs": "eur"})
        assert first["X-Cache"] == "db"

        def boom(**kw):  # type: ignore[no-untyped-def]
            raise AssertionError("the cached body should have answered")

        monkeypatch.setattr(live, "prices_snapshot", boom)
        again = client.get("/api/v1/prices", {"ids": "ethereum", "vs": "eur"})
        assert (again["X-Cache"], again.content) == ("l1", first.content)
        # An unknown currency is never in the cache: it still gets its 400.
        assert client.get("/api/v1/prices", {"ids": "ethereum", "vs": "xyz"}).status_code == 400
