"""Services: quotes store, asset registration, sync command, backfill, sample data, coverage."""

from __future__ import annotations

import io
import math
import shutil
from datetime import timedelta

import pandas as pd
import pytest
from django.core.management import CommandError, call_command

from core.http import ProviderError
from markets import providers, selectors
from markets.contracts import CandleData, QuoteBatch
from markets.models import Asset, Candle, Quote
from markets.services import (
    InvalidCandle,
    assets_upsert,
    candles_backfill,
    candles_upsert,
    load_sample_data,
    quotes_store,
)
from markets.tests.data_helpers import (
    T0,
    asset_data,
    candle,
    make_asset,
    make_candles,
    quote,
    store,
)

pytestmark = pytest.mark.django_db


# --- quotes ------------------------------------------------------------------------------


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


def test_provider_descriptions_map_to_existing_assets_by_explicit_ids():
    make_asset("bitcoin", "BTC", 1, binance_symbol="BTCUSDT", coingecko_id="bitcoin")
    # Binance only knows the pair; the symbol-derived slug must not create a second bitcoin.
    result = assets_upsert(assets=[asset_data("btc", "BTC", None, binance_symbol="BTCUSDT")])
    assert result.assets["btc"].pk == "bitcoin"
    assert Asset.objects.count() == 1
    # Provider ids are filled in, never blanked.
    assets_upsert(assets=[asset_data("bitcoin", "BTC", 1, coincap_id="bitcoin")])
    btc = Asset.objects.get(pk="bitcoin")
    assert (btc.binance_symbol, btc.coincap_id, btc.coingecko_id) == (
        "BTCUSDT",
        "bitcoin",
        "bitcoin",
    )


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


# --- candles -----------------------------------------------------------------------------


def test_upsert_refuses_an_impossible_candle_before_writing_anything():
    asset = make_asset()
    bad = CandleData(
        T0 + timedelta(days=1), open=1, high=0.5, low=0.4, close=1, volume=1, source="t"
    )
    with pytest.raises(InvalidCandle, match=r"high 0\.5"):
        candles_upsert(asset=asset, interval="1d", candles=[candle(0), bad])
    assert Candle.objects.count() == 0


@pytest.mark.parametrize("copy_min", [0, 1], ids=["bulk_create", "copy-path-on-postgres"])
def test_upsert_is_idempotent_and_updates_values(settings, copy_min):  # type: ignore[no-untyped-def]
    settings.MARKETS_UPSERT_COPY_MIN_ROWS = copy_min
    asset = make_asset()
    assert make_candles(asset, range(5)) == 5
    assert make_candles(asset, range(5)) == 5
    assert Candle.objects.count() == 5
    make_candles(asset, range(3, 7), price=200.0)
    assert Candle.objects.count() == 7
    assert Candle.objects.get(open_time=T0 + timedelta(days=3)).open == 203.0


def test_upsert_many_batches_in_one_transaction(settings):  # type: ignore[no-untyped-def]
    settings.MARKETS_UPSERT_BATCH_SIZE = 7
    asset = make_asset()
    assert make_candles(asset, range(30), interval="1h") == 30
    assert Candle.objects.filter(interval="1h").count() == 30


def test_backfill_pages_through_binance_windows(monkeypatch):  # type: ignore[no-untyped-def]
    asset = make_asset(binance_symbol="BTCUSDT")
    calls = []

    def fetch_klines(*, binance_symbol, interval, start, end):  # type: ignore[no-untyped-def]
        calls.append((start, end))
        out, t = [], start
        while t <= end and t < T0 + timedelta(days=25):
            out.append(candle((t - T0).days))
            t += timedelta(days=1)
        return out

    monkeypatch.setattr(providers, "fetch_klines", fetch_klines)
    result = candles_backfill(
        asset=asset, interval="1d", since=T0, until=T0 + timedelta(days=29), window=10
    )
    assert [c[0] for c in calls] == [T0, T0 + timedelta(days=10), T0 + timedelta(days=20)]
    assert result.written == 25 and result.first == T0 and result.last == T0 + timedelta(days=24)
    again = candles_backfill(
        asset=asset, interval="1d", since=T0, until=T0 + timedelta(days=29), window=10
    )
    assert again.written == 25 and Candle.objects.count() == 25


def test_backfill_command_validates_input(monkeypatch):  # type: ignore[no-untyped-def]
    make_asset("bitcoin", "BTC", 1, binance_symbol="BTCUSDT")
    make_asset("nopair", "NOP", 2)
    monkeypatch.setattr(providers, "fetch_klines", lambda **kw: [candle(0)])
    with pytest.raises(CommandError, match="no asset"):
        call_command("backfill_candles", "--symbol", "ZZZ", "--since", "2024-01-01")
    with pytest.raises(CommandError, match="Binance pair"):
        call_command("backfill_candles", "--symbol", "NOP", "--since", "2024-01-01")
    with pytest.raises(CommandError, match="not a date"):
        call_command("backfill_candles", "--symbol", "BTC", "--since", "soon")
    out = io.StringIO()
    call_command(
        "backfill_candles",
        "--symbol",
        "BTC",
        "--since",
        "2024-01-01",
        "--until",
        "2024-01-01",
        stdout=out,
    )
    assert "1 candles written for bitcoin" in out.getvalue()


# --- coverage and frames -------------------------------------------------------------------


def test_coverage_lists_gaps_without_filling_them():
    asset = make_asset()
    make_candles(asset, [0, 1, 2, 5, 6, 9])
    cov = selectors.candle_coverage(asset=asset, interval="1d")
    assert (cov.expected, cov.present, cov.missing) == (10, 6, 4)
    assert [(g.start, g.end, g.missing) for g in cov.gaps] == [
        (T0 + timedelta(days=3), T0 + timedelta(days=4), 2),
        (T0 + timedelta(days=7), T0 + timedelta(days=8), 2),
    ]
    assert cov.coverage_pct == 60.0
    assert Candle.objects.count() == 6


def test_coverage_endpoint(api_client):  # type: ignore[no-untyped-def]
    asset = make_asset()
    make_candles(asset, [0, 1, 3], interval="1h")
    body = api_client.get("/api/v1/cryptocurrencies/BTC/coverage", {"interval": "1h"}).json()
    assert body["expected"] == 4 and body["missing"] == 1
    assert body["gaps"] == [
        {"start": "2024-01-01T02:00:00Z", "end": "2024-01-01T02:00:00Z", "missing": 1}
    ]
    empty = api_client.get("/api/v1/cryptocurrencies/BTC/coverage").json()
    assert empty["expected"] == 0 and empty["first"] is None
    bad = api_client.get("/api/v1/cryptocurrencies/BTC/coverage", {"interval": "3d"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "interval"


def test_candle_frame_is_utc_indexed_float_ohlcv():
    asset = make_asset()
    make_candles(asset, range(4))
    frame = selectors.candle_frame(asset="bitcoin", start=T0 + timedelta(days=1))
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert frame.index.name == "open_time" and str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp("2024-01-02", tz="UTC") and len(frame) == 3
    assert (frame.dtypes == "float64").all()
    empty = selectors.candle_frame(asset=asset, interval="1h")
    assert empty.empty and list(empty.columns) == list(frame.columns)


# --- sample data ---------------------------------------------------------------------------


@pytest.fixture
def small_sample(sample_data, tmp_path):  # type: ignore[no-untyped-def]
    """The first rows of two real files, laid out like $CRYPTOCAST_SAMPLE_DATA."""
    (tmp_path / "ohlcv" / "daily").mkdir(parents=True)
    (tmp_path / "ohlcv" / "hourly").mkdir(parents=True)
    lines = (sample_data / "ohlcv" / "daily" / "BTC.csv").read_text().splitlines()[:41]
    (tmp_path / "ohlcv" / "daily" / "BTC.csv").write_text("\n".join(lines) + "\n")
    shutil.copy(sample_data / "ohlcv" / "hourly" / "ETH.csv.gz", tmp_path / "ohlcv" / "hourly")
    return tmp_path


def test_load_sample_data_registers_coins_and_loads_both_intervals(small_sample):  # type: ignore[no-untyped-def]
    result = load_sample_data(data_dir=small_sample)
    assert result.ok and result.available
    assert Asset.objects.count() == 10
    sol = Asset.objects.get(symbol="SOL")
    assert (sol.pk, sol.name, sol.binance_symbol, sol.coingecko_id) == (
        "solana",
        "Solana",
        "SOLUSDT",
        "solana",
    )
    assert Candle.objects.filter(asset_id="bitcoin", interval="1d").count() == 40
    assert Candle.objects.filter(asset_id="ethereum", interval="1h").count() == 13248
    btc = Asset.objects.select_related("latest_quote").get(pk="bitcoin")
    assert btc.latest_quote.source == "binance-sample"
    assert selectors.quote_is_stale(btc.latest_quote)  # recorded data is old: served as stale


def test_load_sample_data_is_idempotent(small_sample):  # type: ignore[no-untyped-def]
    load_sample_data(data_dir=small_sample)
    counts = (Candle.objects.count(), Quote.objects.count(), Asset.objects.count())
    second = load_sample_data(data_dir=small_sample)
    assert second.loaded == [] and len(second.skipped) == 2
    assert (Candle.objects.count(), Quote.objects.count(), Asset.objects.count()) == counts


def test_load_sample_data_without_data_says_so(tmp_path, settings):  # type: ignore[no-untyped-def]
    settings.CRYPTOCAST_SAMPLE_DATA = str(tmp_path / "missing")
    out = io.StringIO()
    call_command("load_sample_data", stdout=out)
    assert "No sample data" in out.getvalue()
    assert Asset.objects.count() == 0


def test_asset_get_never_guesses():
    make_asset("bitcoin", "BTC", 1)
    with pytest.raises(selectors.AssetNotFound):
        selectors.asset_get("")
    with pytest.raises(selectors.AssetNotFound):
        selectors.asset_get("ETH")
    assert selectors.asset_get(" btc ").pk == "bitcoin"


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
