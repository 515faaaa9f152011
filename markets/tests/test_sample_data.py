"""markets.services.sample_data: the recorded demo data loads once, registers the coins, says so
when absent."""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import call_command

from markets import selectors
from markets.models import Asset, Candle, Quote
from markets.services import load_sample_data

pytestmark = pytest.mark.django_db


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
