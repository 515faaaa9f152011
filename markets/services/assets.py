"""Asset registration: upsert canonical assets from provider descriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.db import transaction
from django.db.models import Q

from markets.clients.known_assets import KNOWN_ASSETS as BUILT_IN
from markets.contracts import AssetData
from markets.models import Asset

# The 10 coins of the recorded sample data (and of the offline demo): the built-in mapping's
# entries (markets.clients.known_assets: ids, pairs, ranks) with their categories.
_SAMPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "bitcoin": ("layer-1", "pow"),
    "ethereum": ("layer-1", "smart-contract-platform"),
    "ripple": ("payments",),
    "binancecoin": ("exchange-token", "layer-1"),
    "solana": ("layer-1", "smart-contract-platform"),
    "dogecoin": ("meme", "pow"),
    "cardano": ("layer-1", "smart-contract-platform"),
    "chainlink": ("oracle", "defi"),
    "polkadot": ("layer-0", "interoperability"),
    "litecoin": ("pow", "payments"),
}
KNOWN_ASSETS: dict[str, AssetData] = {
    BUILT_IN[slug].symbol: replace(BUILT_IN[slug], categories=categories)
    for slug, categories in _SAMPLE_CATEGORIES.items()
}

_MAPPED_FIELDS = (
    "coingecko_id",
    "binance_symbol",
    "coincap_id",
    "cryptocompare_symbol",
    "image_url",
)


@dataclass(frozen=True)
class AssetsUpsertResult:
    created: int
    updated: int
    assets: dict[str, Asset]  # AssetData.slug -> the canonical Asset it resolved to


def _match_existing(data: AssetData, by_pk: dict, by_cg: dict, by_binance: dict) -> Asset | None:
    """Explicit mappings only: our id, then the provider ids. Never a bare symbol."""
    return (
        by_pk.get(data.slug)
        or (by_cg.get(data.coingecko_id) if data.coingecko_id else None)
        or (by_binance.get(data.binance_symbol.upper()) if data.binance_symbol else None)
    )


@transaction.atomic
def assets_upsert(*, assets: Iterable[AssetData]) -> AssetsUpsertResult:
    """Create or update assets; provider ids are only ever filled in, never blanked.

    A description matches an existing asset by canonical id, CoinGecko id or Binance pair, so a
    provider that only knows ``BTCUSDT`` still lands on ``bitcoin``.
    """
    items = [a for a in assets if a.slug]
    if not items:
        return AssetsUpsertResult(0, 0, {})
    slugs = {a.slug for a in items}
    cg_ids = {a.coingecko_id for a in items if a.coingecko_id}
    pairs = {a.binance_symbol.upper() for a in items if a.binance_symbol}
    existing = list(
        Asset.objects.filter(
            Q(pk__in=slugs) | Q(coingecko_id__in=cg_ids) | Q(binance_symbol__in=pairs)
        )
    )
    by_pk = {a.pk: a for a in existing}
    by_cg = {a.coingecko_id: a for a in existing if a.coingecko_id}
    by_binance = {a.binance_symbol.upper(): a for a in existing if a.binance_symbol}

    resolved: dict[str, Asset] = {}
    to_create: dict[str, Asset] = {}
    to_update: dict[str, Asset] = {}
    for data in items:
        asset = _match_existing(data, by_pk, by_cg, by_binance) or to_create.get(data.slug)
        if asset is None:
            asset = Asset(
                id=data.slug,
                symbol=data.symbol.upper(),
                name=data.name or data.symbol.upper(),
                rank=data.rank,
                categories=list(data.categories),
                **{f: getattr(data, f) for f in _MAPPED_FIELDS},
            )
            to_create[asset.pk] = asset
            by_pk[asset.pk] = asset
        else:
            changed = False
            for attr, value in (
                ("symbol", data.symbol.upper()),
                ("name", data.name),
                ("rank", data.rank),
                *((f, getattr(data, f)) for f in _MAPPED_FIELDS),
            ):
                if value not in (None, "") and getattr(asset, attr) != value:
                    setattr(asset, attr, value)
                    changed = True
            if data.categories and list(data.categories) != asset.categories:
                asset.categories = list(data.categories)
                changed = True
            if changed and asset.pk not in to_create:
                to_update[asset.pk] = asset
        resolved[data.slug] = asset
    if to_create:
        Asset.objects.bulk_create(list(to_create.values()), batch_size=500)
    if to_update:
        Asset.objects.bulk_update(
            list(to_update.values()),
            ["symbol", "name", "rank", "categories", *_MAPPED_FIELDS, "updated_at"],
            batch_size=500,
        )
    return AssetsUpsertResult(len(to_create), len(to_update), resolved)


def known_asset_register(*, symbol: str) -> Asset | None:
    """Register one of the 10 well-known coins by symbol (None for any other symbol)."""
    data = KNOWN_ASSETS.get(symbol.upper())
    if data is None:
        return None
    return assets_upsert(assets=[data]).assets[data.slug]
