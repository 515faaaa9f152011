"""Reads of `alerts`: the owner's objects (another user's are simply not found) and the bulk
loads evaluation needs (observations of many coins in a fixed number of queries)."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from alerts.contracts import FORECAST_KINDS, AnomalyView, ForecastView, Kind, Observations
from alerts.models import (
    ALERT_RULE_FIELDS,
    Alert,
    AlertEvent,
    AlertState,
    Anomaly,
    Delivery,
    Notification,
    Preference,
    Watchlist,
    WatchlistItem,
    Webhook,
)
from forecasts import selectors as forecast_selectors
from markets import selectors as market_selectors

logger = logging.getLogger("cryptocast.alerts")


# --- owner-scoped reads (another user's object is a 404: it is not in the queryset) ---------
def watchlist_list(*, user: Any) -> QuerySet[Watchlist]:
    items = WatchlistItem.objects.select_related("asset").order_by("position")
    return (
        Watchlist.objects.filter(user=user)
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("id")
    )


def watchlist_get(*, user: Any, pk: int) -> Watchlist:
    return watchlist_list(user=user).get(pk=pk)


def alert_list(
    *,
    user: Any,
    asset_id: str | None = None,
    state: str | None = None,
    kind: str | None = None,
    status: str | None = None,
) -> QuerySet[Alert]:
    qs = (
        Alert.objects.filter(user=user)
        .select_related("asset", "watchlist")
        .prefetch_related(Prefetch("states", queryset=AlertState.objects.order_by("asset_id")))
    )
    if asset_id:
        qs = qs.filter(Q(asset_id=asset_id) | Q(watchlist__items__asset_id=asset_id)).distinct()
    if state:
        qs = qs.filter(states__state=state).distinct()
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


def alert_get(*, user: Any, pk: int) -> Alert:
    return alert_list(user=user).get(pk=pk)


def alert_events(
    *, alert: Alert, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[AlertEvent]:
    """The alert's transitions, newest first; ``start`` inclusive, ``end`` exclusive."""
    qs = AlertEvent.objects.filter(alert=alert)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs.order_by("-created_at", "-id")


def notification_list(*, user: Any, unread: bool | None = None) -> QuerySet[Notification]:
    qs = Notification.objects.filter(user=user)
    if unread is True:
        qs = qs.filter(read_at__isnull=True)
    elif unread is False:
        qs = qs.filter(read_at__isnull=False)
    return qs.order_by("-created_at", "-id")


def notification_unread_count(*, user: Any) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def webhook_list(*, user: Any) -> QuerySet[Webhook]:
    return Webhook.objects.filter(user=user).order_by("id")


def webhook_get(*, user: Any, pk: int) -> Webhook:
    return webhook_list(user=user).get(pk=pk)


def webhook_deliveries(*, webhook: Webhook) -> QuerySet[Delivery]:
    return Delivery.objects.filter(webhook=webhook).order_by("-created_at", "-id")


def preference_of(*, user: Any) -> Preference:
    pref = Preference.objects.filter(user=user).first()
    return pref or Preference(user=user)


# --- bulk loads for evaluation --------------------------------------------------------------
def alert_targets(
    *, asset_ids: Sequence[str] | None, alert_ids: Sequence[int] | None = None
) -> tuple[list[Alert], list[tuple[int, str]]]:
    """Active alerts touching ``asset_ids`` (all when None) and their (alert, coin) pairs.

    Two queries whatever the number of alerts: the alerts, then the watchlist items.
    """
    qs = Alert.objects.filter(status=Alert.Status.ACTIVE).select_related("user")
    if alert_ids is not None:
        qs = qs.filter(pk__in=list(alert_ids))
    if asset_ids is not None:
        ids = list(asset_ids)
        watched = WatchlistItem.objects.filter(asset_id__in=ids).values("watchlist_id")
        qs = qs.filter(Q(asset_id__in=ids) | Q(watchlist_id__in=watched))
    alerts = list(qs.order_by("id"))
    pairs = [(a.pk, a.asset_id) for a in alerts if a.asset_id]
    list_ids = {a.watchlist_id for a in alerts if a.watchlist_id}
    if list_ids:
        items = WatchlistItem.objects.filter(watchlist_id__in=list_ids)
        if asset_ids is not None:
            items = items.filter(asset_id__in=list(asset_ids))
        by_list: dict[int, list[str]] = {}
        for wl, asset in items.order_by("watchlist_id", "position").values_list(
            "watchlist_id", "asset_id"
        ):
            by_list.setdefault(wl, []).append(asset)
        for a in alerts:
            if a.watchlist_id:
                pairs.extend((a.pk, asset) for asset in by_list.get(a.watchlist_id, []))
    return alerts, pairs


def states_for(*, alert_ids: Iterable[int]) -> dict[tuple[int, str], AlertState]:
    ids = list(alert_ids)
    if not ids:
        return {}
    return {(s.alert_id, s.asset_id): s for s in AlertState.objects.filter(alert_id__in=ids)}


def _volume_medians(asset_ids: Sequence[str], *, now: datetime) -> dict[str, float]:
    """30-day median of daily quote-currency volume (base volume x close) from the candles."""
    out: dict[str, float] = {}
    for asset_id in asset_ids:
        rows = market_selectors.candles(
            asset=asset_id,  # type: ignore[arg-type]  # an id works as a FK filter value
            interval="1d",
            start=now - timedelta(days=30),
            end=now,
        ).values_list("volume", "close")
        usd = [v * c for v, c in rows if v is not None and c is not None]
        if usd:
            out[asset_id] = float(median(usd))
    return out


def _forecasts(asset_ids: Sequence[str], *, now: datetime) -> dict[str, ForecastView]:
    """The latest served (``auto``) forecast of each coin, through forecasts' selectors."""
    max_age = timedelta(hours=settings.ALERTS_FORECAST_MAX_AGE_HOURS)
    out: dict[str, ForecastView] = {}
    for asset_id in asset_ids:
        try:
            rows = forecast_selectors.latest_issue(
                asset_id=asset_id, requested_model="auto", days=30
            )
        except Exception:  # a broken forecast archive is no data, never a crash
            logger.exception("alerts: forecasts of %s unreadable", asset_id)
            continue
        if not rows or now - rows[0].issued_at > max_age:
            continue
        rel = [
            float(r.skill["rel_mae"])
            for r in rows
            if isinstance(r.skill, dict)
            and isinstance(r.skill.get("rel_mae"), int | float)
            and math.isfinite(float(r.skill["rel_mae"]))
        ]
        out[asset_id] = ForecastView(
            issued_at=rows[0].issued_at,
            model=rows[0].model,
            points={
                r.horizon: (
                    float(r.point),
                    {str(k): (float(v[0]), float(v[1])) for k, v in (r.intervals or {}).items()},
                )
                for r in rows
            },
            rel_mae=sum(rel) / len(rel) if rel else None,
        )
    return out


def _anomalies(asset_ids: Sequence[str], *, now: datetime) -> dict[str, AnomalyView]:
    """The latest anomaly of each coin flagged in the last 2 days (one query)."""
    out: dict[str, AnomalyView] = {}
    qs = Anomaly.objects.filter(
        asset_id__in=list(asset_ids), open_time__gte=now - timedelta(days=2)
    ).order_by("asset_id", "-open_time", "-score")
    for a in qs:
        out.setdefault(a.asset_id, AnomalyView(a.open_time, a.kind, a.score, a.value))
    return out


def anomaly_list(*, asset_id: str | None = None, kind: str | None = None) -> QuerySet[Anomaly]:
    qs = Anomaly.objects.select_related("asset")
    if asset_id:
        qs = qs.filter(asset_id=asset_id)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-open_time", "asset_id", "kind")


def observations_for(
    *, asset_ids: Iterable[str], kinds: Iterable[str], now: datetime | None = None
) -> dict[str, Observations]:
    """What is known now about each coin: one query for the quotes, and only for coins whose
    alerts need them, the volume medians and the latest forecasts."""
    now = now or timezone.now()
    ids = sorted(set(asset_ids))
    kinds = set(kinds)
    quotes = {q.asset_id: q for q in market_selectors.latest_quotes(ids=ids)} if ids else {}
    medians = _volume_medians(ids, now=now) if Kind.VOLUME_SPIKE in kinds else {}
    forecasts = _forecasts(ids, now=now) if kinds & FORECAST_KINDS else {}
    anomalies = _anomalies(ids, now=now) if Kind.ANOMALY in kinds else {}
    out: dict[str, Observations] = {}
    for asset_id in ids:
        q = quotes.get(asset_id)
        out[asset_id] = Observations(
            asset_id=asset_id,
            price=q.price if q else None,
            as_of=q.as_of if q else None,
            source=q.source if q else "",
            volume_24h=q.volume_24h if q else None,
            change_1h=q.change_1h if q else None,
            change_24h=q.change_24h if q else None,
            change_7d=q.change_7d if q else None,
            volume_median_30d=medians.get(asset_id),
            forecast=forecasts.get(asset_id),
            anomaly=anomalies.get(asset_id),
        )
    return out


# --- reads for the other apps' hooks (registered in alerts.apps) ----------------------------
def user_export(user_id: int) -> dict[str, Any]:
    """The user's alerts data for their data export (accounts): JSON-able, no secrets (a
    webhook's signing secret never leaves; its URL does, it is the user's own)."""
    watchlists = [
        {
            "id": w.pk,
            "name": w.name,
            "coins": [i.asset_id for i in w.items.all()],
            "created_at": w.created_at,
            "updated_at": w.updated_at,
        }
        for w in Watchlist.objects.filter(user_id=user_id)
        .prefetch_related(Prefetch("items", queryset=WatchlistItem.objects.order_by("position")))
        .order_by("id")
    ]
    alerts = list(
        Alert.objects.filter(user_id=user_id)
        .order_by("id")
        .values(
            "id",
            "name",
            "asset_id",
            "watchlist_id",
            *ALERT_RULE_FIELDS,
            "status",
            "created_at",
            "updated_at",
        )
    )
    events = list(
        AlertEvent.objects.filter(alert__user_id=user_id)
        .order_by("created_at", "id")
        .values(
            "id",
            "alert_id",
            "asset_id",
            "from_state",
            "to_state",
            "value",
            "reason",
            "values",
            "source",
            "as_of",
            "notified",
            "created_at",
        )
    )
    notifications = list(
        Notification.objects.filter(user_id=user_id)
        .order_by("created_at", "id")
        .values("id", "event_id", "title", "body", "data", "created_at", "read_at")
    )
    webhooks = [
        {
            **hook,
            "deliveries": list(
                Delivery.objects.filter(webhook_id=hook["id"])
                .order_by("created_at", "id")
                .values(
                    "id",
                    "notification_id",
                    "status",
                    "attempts",
                    "last_status_code",
                    "last_error",
                    "sent_at",
                    "created_at",
                )
            ),
        }
        for hook in Webhook.objects.filter(user_id=user_id)
        .order_by("id")
        .values("id", "url", "is_active", "consecutive_failures", "disabled_reason", "created_at")
    ]
    pref = (
        Preference.objects.filter(user_id=user_id)
        .values("push", "email", "webhook", "quiet_start", "quiet_end", "daily_digest")
        .first()
    )
    return {
        "watchlists": watchlists,
        "alerts": alerts,
        "events": events,
        "notifications": notifications,
        "webhooks": webhooks,
        "preferences": pref,
    }


def tracked_asset_ids() -> list[str]:
    """Coins users care about, for forecasting (forecasts' tracked set): every coin on a
    watchlist (so every watchlist alert's coins too), plus the coins of active forecast-based
    single-coin alerts (they need a forecast to be evaluated at all)."""
    watched = WatchlistItem.objects.values_list("asset_id", flat=True).distinct()
    ids = set(watched)
    ids |= set(
        Alert.objects.filter(status=Alert.Status.ACTIVE, kind__in=[k.value for k in FORECAST_KINDS])
        .exclude(asset_id=None)
        .values_list("asset_id", flat=True)
        .distinct()
    )
    return sorted(ids)
