"""Watchlist writes: ordered coins resolved through the markets asset registry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction

from alerts.models import Watchlist, WatchlistItem
from markets import selectors as market_selectors

from .common import invalid


def _resolve_coins(coins: Sequence[str]) -> list[Any]:
    if len(coins) > settings.ALERTS_WATCHLIST_MAX_COINS:
        raise invalid("coins", f"At most {settings.ALERTS_WATCHLIST_MAX_COINS} coins.")
    found, missing, seen = [], [], set()
    for raw in coins:
        try:
            asset = market_selectors.asset_get(str(raw))
        except market_selectors.AssetNotFound:
            missing.append(str(raw))
            continue
        if asset.pk not in seen:
            seen.add(asset.pk)
            found.append(asset)
    if missing:
        raise invalid("coins", f"Unknown coin(s): {', '.join(missing)}.")
    return found


def _set_items(watchlist: Watchlist, assets: list[Any]) -> None:
    WatchlistItem.objects.filter(watchlist=watchlist).delete()
    WatchlistItem.objects.bulk_create(
        [WatchlistItem(watchlist=watchlist, asset=a, position=i) for i, a in enumerate(assets)]
    )


def _check_name(user: Any, name: str, *, exclude: int | None = None) -> None:
    qs = Watchlist.objects.filter(user=user, name=name)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    if qs.exists():
        raise invalid("name", "You already have a watchlist with this name.")


@transaction.atomic
def watchlist_create(*, user: Any, name: str, coins: Sequence[str]) -> Watchlist:
    if Watchlist.objects.filter(user=user).count() >= settings.ALERTS_MAX_WATCHLISTS_PER_USER:
        raise invalid(
            "non_field_errors",
            f"At most {settings.ALERTS_MAX_WATCHLISTS_PER_USER} watchlists per user.",
        )
    _check_name(user, name)
    assets = _resolve_coins(coins)
    watchlist = Watchlist.objects.create(user=user, name=name)
    _set_items(watchlist, assets)
    return watchlist


@transaction.atomic
def watchlist_update(
    *, watchlist: Watchlist, name: str | None = None, coins: Sequence[str] | None = None
) -> Watchlist:
    if name is not None and name != watchlist.name:
        _check_name(watchlist.user, name, exclude=watchlist.pk)
        watchlist.name = name
    if coins is not None:
        _set_items(watchlist, _resolve_coins(coins))
    watchlist.save()
    return watchlist


@transaction.atomic
def watchlist_delete(*, watchlist: Watchlist) -> None:
    watchlist.delete()


@transaction.atomic
def watchlist_remove_coin(*, user: Any, coin: str) -> int:
    """Remove a coin from every watchlist of the user; how many lists it left."""
    try:
        asset = market_selectors.asset_get(coin)
    except market_selectors.AssetNotFound as exc:
        raise invalid("symbol", f"Unknown coin: {coin}.") from exc
    deleted, _ = WatchlistItem.objects.filter(watchlist__user=user, asset=asset).delete()
    return deleted
