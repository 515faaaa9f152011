"""markets.services.assets: provider descriptions map to the canonical assets by explicit ids."""

from __future__ import annotations

import pytest

from markets.models import Asset
from markets.services import assets_upsert
from markets.tests.data_helpers import (
    asset_data,
    make_asset,
)

pytestmark = pytest.mark.django_db


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
