"""Alert rule writes: validation of each condition's parameters, limits, pause/resume."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from alerts.contracts import Kind, Rule, Trigger
from alerts.engine.conditions import DIRECTIONS, WINDOWS, describe
from alerts.models import ALERT_RULE_FIELDS, Alert, AlertState, Watchlist

from .common import invalid

_NUMBER = (int, float)


def _num(
    params: dict[str, Any], name: str, *, lo: float, hi: float, lo_open: bool = False
) -> float:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, _NUMBER) or not math.isfinite(value):
        raise invalid(f"params.{name}", "A finite number is required.")
    if value < lo or value > hi or (lo_open and value == lo):
        raise invalid(f"params.{name}", f"Must be {'>' if lo_open else '>='} {lo:g} and <= {hi:g}.")
    return float(value)


BIG = 1e15


def clean_params(kind: Kind, params: Any) -> dict[str, Any]:
    """The condition's parameters, checked and normalised (a 400 names ``params.<field>``)."""
    if not isinstance(params, dict):
        raise invalid("params", "An object is required.")
    if kind in (Kind.CROSSES_ABOVE, Kind.CROSSES_BELOW, Kind.GREATER_THAN, Kind.LESS_THAN):
        return {"value": _num(params, "value", lo=0, hi=BIG, lo_open=True)}
    if kind == Kind.PCT_MOVE:
        window = params.get("window")
        if window not in WINDOWS:
            raise invalid("params.window", f"One of {', '.join(WINDOWS)}.")
        direction = params.get("direction", "either")
        if direction not in DIRECTIONS:
            raise invalid("params.direction", f"One of {', '.join(DIRECTIONS)}.")
        pct = _num(params, "percent", lo=0, hi=10_000, lo_open=True)
        return {"window": window, "direction": direction, "percent": pct}
    if kind in (Kind.ENTERS_RANGE, Kind.EXITS_RANGE):
        low = _num(params, "low", lo=0, hi=BIG)
        high = _num(params, "high", lo=0, hi=BIG)
        if high <= low:
            raise invalid("params.high", "Must be greater than low.")
        return {"low": low, "high": high}
    if kind == Kind.VOLUME_SPIKE:
        return {"multiple": _num(params, "multiple", lo=1, hi=1000, lo_open=True)}
    if kind in (Kind.FORECAST_PROB_ABOVE, Kind.FORECAST_PROB_BELOW):
        value = _num(params, "value", lo=0, hi=BIG, lo_open=True)
        horizon = _num(params, "horizon", lo=1, hi=30)
        if horizon != int(horizon):
            raise invalid("params.horizon", "Whole days are required.")
        prob = _num(params, "probability", lo=0, hi=1, lo_open=True)
        if prob >= 1:
            raise invalid("params.probability", "Must be below 1.")
        return {"value": value, "horizon": int(horizon), "probability": prob}
    if kind == Kind.ANOMALY:
        kinds = params.get("kinds", ["return", "volume"])
        if not isinstance(kinds, list) or not kinds or not set(kinds) <= {"return", "volume"}:
            raise invalid("params.kinds", "A non-empty list of return, volume.")
        return {"min_score": _num(params, "min_score", lo=1, hi=100), "kinds": kinds}
    return {}


def rule_of(alert: Alert) -> Rule:
    """The frozen rule the engine evaluates."""
    return Rule(
        id=alert.pk,
        kind=Kind(alert.kind),
        params=dict(alert.params),
        trigger=Trigger(alert.trigger),
        for_seconds=alert.for_seconds,
        hysteresis_pct=alert.hysteresis_pct,
        cooldown_seconds=alert.cooldown_seconds,
        bar_seconds=alert.bar_seconds,
        stale_seconds=alert.stale_seconds,
        expires_at=alert.expires_at,
    )


def alert_description(alert: Alert) -> str:
    target = alert.asset_id or (f"each coin of watchlist {alert.watchlist_id}")
    try:
        text = describe(Kind(alert.kind), alert.params)
    except (KeyError, ValueError, TypeError):
        text = alert.kind
    return f"{target}: {text}"


_EDITABLE = ("name", *ALERT_RULE_FIELDS)


def _apply(alert: Alert, fields: dict[str, Any]) -> None:
    for name in _EDITABLE:
        if name in fields:
            setattr(alert, name, fields[name])
    try:
        kind = Kind(alert.kind)
    except ValueError as exc:
        raise invalid("kind", f"One of {', '.join(k.value for k in Kind)}.") from exc
    try:
        Trigger(alert.trigger)
    except ValueError as exc:
        raise invalid("trigger", f"One of {', '.join(t.value for t in Trigger)}.") from exc
    alert.params = clean_params(kind, alert.params)
    if not 0 <= float(alert.hysteresis_pct) <= 50:
        raise invalid("hysteresis_pct", "Between 0 and 50.")
    if alert.bar_seconds < 60:
        raise invalid("bar_seconds", "At least 60.")
    if alert.stale_seconds < 30:
        raise invalid("stale_seconds", "At least 30.")
    expires: datetime | None = alert.expires_at
    if "expires_at" in fields and expires is not None and expires <= timezone.now():
        raise invalid("expires_at", "Must be in the future.")


@transaction.atomic
def alert_create(
    *,
    user: Any,
    asset_id: str | None = None,
    watchlist: Watchlist | None = None,
    **fields: Any,
) -> Alert:
    if Alert.objects.filter(user=user).count() >= settings.ALERTS_MAX_PER_USER:
        raise invalid(
            "non_field_errors", f"At most {settings.ALERTS_MAX_PER_USER} alerts per user."
        )
    if (asset_id is None) == (watchlist is None):
        raise invalid("coin", "Give exactly one of coin or watchlist.")
    if watchlist is not None and watchlist.user_id != user.pk:
        raise invalid("watchlist", "Unknown watchlist.")
    fields.setdefault("stale_seconds", settings.ALERTS_STALE_SECONDS)
    alert = Alert(user=user, asset_id=asset_id, watchlist=watchlist)
    _apply(alert, fields)
    alert.save()
    return alert


@transaction.atomic
def alert_update(*, alert: Alert, **fields: Any) -> Alert:
    """Edit the rule; a changed condition starts from normal again (old state is meaningless)."""
    condition_changed = any(
        name in fields and fields[name] != getattr(alert, name) for name in ("kind", "params")
    )
    status = fields.pop("status", None)
    _apply(alert, fields)
    if status is not None:
        if status not in (Alert.Status.ACTIVE, Alert.Status.PAUSED):
            raise invalid("status", "active (resume) or paused (pause).")
        alert.status = status
    alert.save()
    if condition_changed:
        AlertState.objects.filter(alert=alert).delete()
    return alert


@transaction.atomic
def alert_delete(*, alert: Alert) -> None:
    alert.delete()
