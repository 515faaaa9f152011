"""markets.services.candles: validated upserts (bulk and COPY paths), backfill windows, command."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from markets import providers
from markets.contracts import CandleData
from markets.models import Candle
from markets.services import (
    InvalidCandle,
    candles_backfill,
    candles_upsert,
)
from markets.tests.data_helpers import (
    T0,
    candle,
    make_asset,
    make_candles,
)

pytestmark = pytest.mark.django_db


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
