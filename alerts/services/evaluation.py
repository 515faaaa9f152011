"""Evaluation: load rules, states and observations in bulk, call the pure ``evaluate`` for
every (rule, coin), write the transitions, the new states and the notifications' outbox rows
in ONE transaction. The number of queries does not grow with the number of alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from alerts import selectors
from alerts.contracts import Observations, RuleState, State, Transition
from alerts.engine import evaluate
from alerts.engine.evaluate import verdict
from alerts.models import Alert, AlertEvent, AlertState

from .notifications import notifications_write
from .rules import alert_description, rule_of

logger = logging.getLogger("cryptocast.alerts")


def _write_moved(rows: list[AlertState], obs: dict[str, Observations], *, now: datetime) -> None:
    """States that changed, grouped by what they changed to: a handful of UPDATEs (Django's
    ``bulk_update`` builds a CASE per row and costs more than the evaluation itself)."""
    groups: dict[tuple[str, datetime | None, bool], list[AlertState]] = {}
    for row in rows:
        fired = row.last_fired_at == now
        groups.setdefault((row.state, row.pending_since, fired), []).append(row)
    for (state, pending_since, fired), members in groups.items():
        for i in range(0, len(members), 900):
            chunk = members[i : i + 900]
            fields: dict[str, Any] = {"state": state, "since": now, "pending_since": pending_since}
            if fired:
                assets = {r.asset_id for r in chunk}
                fields["last_fired_at"] = now
                fields["last_fired_key"] = Case(
                    *[When(asset_id=a, then=Value(obs[a].key[:100])) for a in assets]
                )
            AlertState.objects.filter(pk__in=[r.pk for r in chunk]).update(**fields)


def _remember_values(
    obs: dict[str, Observations], *, alert_ids: Sequence[int], now: datetime
) -> None:
    """Every evaluated state remembers the coin's price (for crossings): the value depends on
    the coin only, so one UPDATE with a CASE per coin, not one row write per alert."""
    priced = {a: o for a, o in obs.items() if o.price is not None}
    if not priced:
        return
    qs = AlertState.objects.filter(asset_id__in=list(priced))
    if len(alert_ids) <= 900:
        qs = qs.filter(alert_id__in=list(alert_ids))
    else:
        qs = qs.filter(alert__status=Alert.Status.ACTIVE)
    qs.update(
        last_value=Case(*[When(asset_id=a, then=Value(o.price)) for a, o in priced.items()]),
        last_observation_key=Case(
            *[When(asset_id=a, then=Value(o.key[:100])) for a, o in priced.items()]
        ),
        evaluated_at=now,
    )


@dataclass(frozen=True)
class EvaluationReport:
    alerts: int
    pairs: int
    transitions: int
    fired: int
    expired: int
    by_state: dict[str, int] = field(default_factory=dict)


def _rule_state(row: AlertState | None) -> RuleState:
    if row is None:
        return RuleState()
    return RuleState(
        state=State(row.state),
        since=row.since,
        pending_since=row.pending_since,
        last_value=row.last_value,
        last_fired_at=row.last_fired_at,
        last_fired_key=row.last_fired_key,
    )


def _expire(now: datetime, alert_ids: Sequence[int] | None) -> int:
    qs = Alert.objects.filter(
        status=Alert.Status.ACTIVE, expires_at__isnull=False, expires_at__lte=now
    )
    if alert_ids is not None:
        qs = qs.filter(pk__in=list(alert_ids))
    return qs.update(status=Alert.Status.EXPIRED, updated_at=now)


@transaction.atomic
def alerts_evaluate(
    *,
    asset_ids: Sequence[str] | None = None,
    alert_ids: Sequence[int] | None = None,
    now: datetime | None = None,
) -> EvaluationReport:
    """Evaluate the active alerts on ``asset_ids`` (all coins when None: the sweep).

    Idempotent: an observation already acted upon yields no transition, and the unique
    constraint on events refuses a duplicate written by a concurrent run (the task retries).
    """
    now = now or timezone.now()
    expired = _expire(now, alert_ids) if asset_ids is None else 0
    alerts, pairs = selectors.alert_targets(asset_ids=asset_ids, alert_ids=alert_ids)
    if not pairs:
        return EvaluationReport(len(alerts), 0, 0, 0, expired)
    by_id = {a.pk: a for a in alerts}
    rules = {a.pk: rule_of(a) for a in alerts}
    states = selectors.states_for(alert_ids=by_id)
    obs = selectors.observations_for(
        asset_ids=[asset for _, asset in pairs], kinds={a.kind for a in alerts}, now=now
    )
    new_rows: list[AlertState] = []
    moved: list[AlertState] = []  # rows whose state changed (usually few)
    events: list[tuple[Alert, AlertEvent, Transition]] = []
    completed: set[int] = set()
    counts: dict[str, int] = {}
    for alert_id, asset_id in pairs:
        rule = rules[alert_id]
        row = states.get((alert_id, asset_id))
        o = obs[asset_id]
        t = evaluate(rule, o, state=_rule_state(row), now=now)
        if row is None:
            row = AlertState(
                alert_id=alert_id,
                asset_id=asset_id,
                since=now,
                evaluated_at=now,
                last_value=o.price,
                last_observation_key=o.key if o.price is not None else "",
            )
            new_rows.append(row)
        elif t is not None:
            moved.append(row)
        if t is not None:
            row.state = t.to_state
            row.since = now
            row.pending_since = t.pending_since
            if t.notify:
                row.last_fired_at = now
                row.last_fired_key = t.observation_key
            if t.completes:
                completed.add(alert_id)
            events.append(
                (
                    by_id[alert_id],
                    AlertEvent(
                        alert_id=alert_id,
                        asset_id=asset_id,
                        from_state=t.from_state,
                        to_state=t.to_state,
                        observation_key=t.observation_key[:100],
                        value=t.value,
                        reason=t.reason[:500],
                        values=t.values,
                        source=o.source[:32],
                        as_of=o.as_of,
                        notified=t.notify,
                        created_at=now,
                    ),
                    t,
                )
            )
        counts[row.state] = counts.get(row.state, 0) + 1
    _remember_values(obs, alert_ids=list(by_id), now=now)
    if new_rows:
        AlertState.objects.bulk_create(new_rows, batch_size=1000)
    if moved:
        _write_moved(moved, obs, now=now)
    if events:
        AlertEvent.objects.bulk_create([e for _, e, _ in events], batch_size=1000)
        fired = [(a, e) for a, e, t in events if t.notify]
        if fired:
            notifications_write(fired=[(a, e, alert_description(a)) for a, e in fired], now=now)
    if completed:
        Alert.objects.filter(pk__in=completed).update(status=Alert.Status.COMPLETED, updated_at=now)
    return EvaluationReport(
        alerts=len(alerts),
        pairs=len(pairs),
        transitions=len(events),
        fired=sum(1 for _, _, t in events if t.notify),
        expired=expired,
        by_state=counts,
    )


@dataclass(frozen=True)
class DryRun:
    asset_id: str
    state: str
    would_fire: bool
    signal: str
    value: float | None
    reason: str
    price: float | None
    source: str
    as_of: datetime | None


def alert_dry_run(*, alert: Alert, now: datetime | None = None) -> list[DryRun]:
    """Would the alert fire now, and why (current data, nothing written)."""
    now = now or timezone.now()
    _, pairs = selectors.alert_targets(asset_ids=None, alert_ids=[alert.pk])
    if alert.status != Alert.Status.ACTIVE:  # paused alerts can still be tried
        if alert.asset_id:
            pairs = [(alert.pk, alert.asset_id)]
        else:
            pairs = [(alert.pk, i.asset_id) for i in alert.watchlist.items.all()]  # type: ignore[union-attr]
    rule = rule_of(alert)
    states = selectors.states_for(alert_ids=[alert.pk])
    obs = selectors.observations_for(
        asset_ids=[asset for _, asset in pairs], kinds={alert.kind}, now=now
    )
    out = []
    for _, asset_id in pairs:
        state = _rule_state(states.get((alert.pk, asset_id)))
        o: Observations = obs[asset_id]
        v = verdict(rule, o, state=state, now=now)
        t = evaluate(rule, o, state=state, now=now)
        out.append(
            DryRun(
                asset_id=asset_id,
                state=state.state,
                would_fire=bool(t and t.notify),
                signal=v.signal,
                value=v.value,
                reason=v.reason,
                price=o.price,
                source=o.source,
                as_of=o.as_of,
            )
        )
    return out
