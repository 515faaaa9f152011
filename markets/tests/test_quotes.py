"""markets.services.quotes: storing a provider batch (history, latest pointer, provenance), the sync
command, publishing after commit."""

from __future__ import annotations

import io
import math
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from core.http import ProviderError
from markets import providers
from markets.contracts import QuoteBatch
from markets.models import Asset, Quote
from markets.services import quotes_store
from markets.tests.data_helpers import (
    T0,
    asset_data,
    quote,
    store,
)

pytestmark = pytest.mark.django_db


def test_latest_quote_only_moves_forward():
    btc = asset_data("bitcoin", "BTC", 1)
    store(quote(btc, 2.0, as_of=T0 + timedelta(minutes=2)))
    store(quote(btc, 1.0, as_of=T0 + timedelta(minutes=1)))  # a late, older snapshot
    asset = Asset.objects.select_related("latest_quote").get(pk="bitcoin")
    assert asset.latest_quote.price == 2.0
    assert Quote.objects.count() == 2  # history keeps both


def test_storing_the_same_snapshot_twice_is_a_noop():
    btc = asset_data("bitcoin", "BTC", 1)
    q = quote(btc, 2.0, as_of=T0)
    store(q)
    store(q)
    assert Quote.objects.count() == 1


def test_garbage_quotes_are_never_stored():
    good = quote(asset_data("bitcoin", "BTC", 1), 2.0)
    result = quotes_store(
        batch=QuoteBatch(
            quotes=(
                good,
                quote(asset_data("ethereum", "ETH", 2), math.nan),
                quote(asset_data("dogecoin", "DOGE", 3), -1.0),
                quote(asset_data("cardano", "ADA", 4), 1.0, market_cap=math.inf),
            ),
            source="coingecko",
        )
    )
    assert result.stored == 1 and result.rejected == 3
    assert list(Quote.objects.values_list("asset_id", flat=True)) == ["bitcoin"]
    assert not Asset.objects.filter(pk="ethereum").exists()


def test_fallback_reason_is_stored_with_each_quote():
    store(
        quote(asset_data("bitcoin", "BTC", 1), 1.0, source="binance"),
        fallback_reason="coingecko: 429 rate limited",
    )
    assert Quote.objects.get().fallback_reason == "coingecko: 429 rate limited"


def test_sync_markets_command_stores_quotes_and_reports_failover(monkeypatch):  # type: ignore[no-untyped-def]
    def fetch_quotes(*, top, provider=None, ids=None):  # type: ignore[no-untyped-def]
        q = quote(asset_data("bitcoin", "BTC", 1), 9.0, source="binance")
        return QuoteBatch(
            quotes=(q,), source="binance", fallback_reason="coingecko: 429 rate limited"
        )

    monkeypatch.setattr(providers, "fetch_quotes", fetch_quotes)
    out = io.StringIO()
    call_command("sync_markets", "--top", "5", stdout=out)
    assert "1 quotes stored from binance" in out.getvalue()
    assert "coingecko: 429 rate limited" in out.getvalue()
    assert Quote.objects.get().fallback_reason == "coingecko: 429 rate limited"


def test_sync_markets_command_fails_readably(monkeypatch):  # type: ignore[no-untyped-def]
    def down(**kwargs):  # type: ignore[no-untyped-def]
        raise ProviderError("all", "coingecko: timeout; binance: 503")

    monkeypatch.setattr(providers, "fetch_quotes", down)
    with pytest.raises(CommandError, match="sync failed"):
        call_command("sync_markets", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--top"):
        call_command("sync_markets", "--top", "0", stdout=io.StringIO())
    assert Quote.objects.count() == 0


def test_stored_quotes_are_published_after_commit(monkeypatch, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    from streaming import services as stream

    published: list[dict] = []
    monkeypatch.setattr(stream, "publish", lambda **kw: published.append(kw))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        store(
            quote(asset_data("bitcoin", "BTC", 1), 5.0, source="binance"),
            fallback_reason="coingecko: timeout",
        )
    assert published == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    call = published[0]
    assert call["channel"] == "quotes" and call["fanout"] is True and call["key"] == "id"
    datum = call["items"][0]
    assert datum["id"] == "bitcoin" and datum["price"] == 5.0
    assert datum["source"] == "binance" and datum["fallback_reason"] == "coingecko: timeout"
    assert {"as_of", "fetched_at", "stale"} <= set(datum)
    assert datum["as_of"].endswith("Z")
