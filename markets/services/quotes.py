"""Quote writes: store a provider batch (history + latest pointer), sync or queue one, cleanup."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.enqueue import task_send_on_commit
from markets import providers
from markets.contracts import QuoteBatch, QuoteData
from markets.models import Asset, Quote
from markets.payloads import QUOTE_FIGURES, quote_payload
from streaming import services as stream

from .assets import assets_upsert

logger = logging.getLogger("cryptocast.markets")


# Apps above markets (alerts) react to new prices without markets knowing them: they register
# a callback from AppConfig.ready(); it runs on commit with the ids of the assets whose
# latest quote moved. A failing listener is logged and never breaks ingestion.
QuotesListener = Callable[[tuple[str, ...]], None]
_QUOTE_LISTENERS: dict[str, QuotesListener] = {}


def quotes_listener_register(name: str, listener: QuotesListener) -> None:
    """Call ``listener(asset_ids)`` after every committed quote write (idempotent by name)."""
    _QUOTE_LISTENERS[name] = listener


def _notify_listeners(asset_ids: tuple[str, ...]) -> None:
    for name, listener in list(_QUOTE_LISTENERS.items()):
        try:
            listener(asset_ids)
        except Exception:
            logger.exception("quote listener %s failed", name)


@dataclass(frozen=True)
class QuotesStoreResult:
    source: str
    stored: int
    rejected: int
    assets_created: int
    fallback_reason: str
    asset_ids: tuple[str, ...]


def _valid(q: QuoteData) -> bool:
    """A last line of defence: the clients already refuse garbage, never store it here either."""
    if not isinstance(q.price, int | float) or not math.isfinite(q.price) or q.price < 0:
        return False
    for name in QUOTE_FIGURES[1:]:
        v = getattr(q, name)
        if v is not None and (not isinstance(v, int | float) or not math.isfinite(v)):
            return False
    return q.as_of is not None and q.fetched_at is not None


@transaction.atomic
def quotes_store(*, batch: QuoteBatch) -> QuotesStoreResult:
    """Register the batch's assets, append its quotes to the history (idempotent on
    ``(asset, source, as_of)``) and move each asset's ``latest_quote`` forward."""
    quotes = [q for q in batch.quotes if _valid(q)]
    rejected = len(batch.quotes) - len(quotes)
    upserted = assets_upsert(assets=[q.asset for q in quotes])
    rows: dict[tuple[str, str, object], Quote] = {}
    for q in quotes:
        asset = upserted.assets[q.asset.slug]
        rows[(asset.pk, q.source, q.as_of)] = Quote(
            asset=asset,
            source=q.source[:32],
            as_of=q.as_of,
            fetched_at=q.fetched_at,
            fallback_reason=(q.fallback_reason or batch.fallback_reason)[:500],
            **{f: (None if getattr(q, f) is None else float(getattr(q, f))) for f in QUOTE_FIGURES},
        )
    objs = list(rows.values())
    if objs:
        Quote.objects.bulk_create(
            objs,
            update_conflicts=True,
            unique_fields=["asset", "source", "as_of"],
            update_fields=[*QUOTE_FIGURES, "fetched_at", "fallback_reason"],
        )
    _advance_latest(objs)
    if objs:
        ids = [o.pk for o in objs if o.pk is not None]
        transaction.on_commit(lambda: publish_quotes(quote_ids=ids))
        moved = tuple(dict.fromkeys(o.asset_id for o in objs))
        transaction.on_commit(lambda: _notify_listeners(moved))
    return QuotesStoreResult(
        source=batch.source,
        stored=len(objs),
        rejected=rejected,
        assets_created=upserted.created,
        fallback_reason=batch.fallback_reason,
        asset_ids=tuple(dict.fromkeys(o.asset_id for o in objs)),
    )


def _advance_latest(objs: list[Quote]) -> None:
    if not objs:
        return
    newest: dict[str, Quote] = {}
    for o in objs:
        if o.asset_id not in newest or o.as_of > newest[o.asset_id].as_of:
            newest[o.asset_id] = o
    missing_pk = [o for o in newest.values() if o.pk is None]
    if missing_pk:  # backends that do not return ids from an upsert
        for o in missing_pk:
            o.pk = (
                Quote.objects.filter(asset_id=o.asset_id, source=o.source, as_of=o.as_of)
                .values_list("pk", flat=True)
                .get()
            )
    # Row locks: two concurrent syncs cannot move a pointer backwards (last writer checks).
    assets = (
        Asset.objects.filter(pk__in=newest)
        .select_related("latest_quote")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    changed = []
    for asset in assets:
        candidate = newest[asset.pk]
        current = asset.latest_quote
        newer = current is None or candidate.as_of >= current.as_of
        if newer and asset.latest_quote_id != candidate.pk:
            asset.latest_quote_id = candidate.pk
            changed.append(asset)
    if changed:
        Asset.objects.bulk_update(changed, ["latest_quote"], batch_size=500)


def markets_sync(
    *, top: int = 50, provider: str | None = None, ids: list[str] | None = None
) -> QuotesStoreResult:
    """Fetch the top-N quotes (or those of ``ids``) through the provider failover and store them.

    The network call happens OUTSIDE any transaction; only the write is atomic.
    """
    if ids:
        batch = providers.fetch_quotes(top=len(ids), ids=list(ids), provider=provider)
    else:
        batch = providers.fetch_quotes(top=top, provider=provider)
    return quotes_store(batch=batch)


@transaction.atomic
def sync_enqueue(*, top: int = 50, provider: str | None = None) -> str:
    """Queue a quote sync (sent on commit); returns its task id."""
    return task_send_on_commit("markets.sync_quotes", kwargs={"top": top, "provider": provider})


def quotes_cleanup(*, older_than_days: int | None = None, chunk: int = 5000) -> int:
    """Delete quote history older than the retention; every asset's latest quote is kept.

    Deletes in short chunks (each its own transaction) so a big purge never locks the table.
    """
    days = settings.MARKETS_QUOTE_HISTORY_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                Quote.objects.filter(as_of__lt=cutoff, latest_for__isnull=True).values_list(
                    "pk", flat=True
                )[:chunk]
            )
            if not ids:
                break
            n, _ = Quote.objects.filter(pk__in=ids).delete()
            deleted += n
    return deleted


def publish_quotes(*, quote_ids: list[int]) -> None:
    """After commit: the stored quotes that are now their asset's latest go to the stream
    (``quotes:*`` and ``quotes:<id>``) in the one payload shape REST serves.

    A failing stream never breaks ingestion: ``publish`` logs and counts its own failures;
    building the payloads is guarded here the same way.
    """
    if not quote_ids:
        return
    try:
        quotes = list(
            Quote.objects.select_related("asset").filter(pk__in=quote_ids).order_by("asset_id")
        )
        now = timezone.now()
        items = [
            quote_payload(asset=q.asset, quote=q, now=now)
            for q in quotes
            if q.asset.latest_quote_id == q.pk  # a backfilled older quote moves nothing
        ]
    except Exception:
        logger.exception("building the quote stream payloads failed")
        return
    stream.publish(channel="quotes", items=items, key="id", fanout=True)
