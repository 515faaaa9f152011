"""``evaluate(rule, observations, state=, now=) -> Transition | None``: the whole decision.

Pure: frozen dataclasses in, a frozen transition (or nothing) out. The service loads rules,
states and observations in bulk, calls this for every (rule, coin) and writes what it returns.
Re-running it on the same inputs after its transition was stored returns ``None``: the same
observation never fires twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.contracts import (
    Observations,
    Rule,
    RuleState,
    Signal,
    State,
    Transition,
    Trigger,
    Verdict,
)

from .conditions import check
from .states import ACTIVE, next_state


def is_stale(obs: Observations, *, stale_seconds: int, now: datetime) -> bool:
    return obs.as_of is None or (now - obs.as_of) > timedelta(seconds=stale_seconds)


def verdict(rule: Rule, obs: Observations, *, state: RuleState, now: datetime) -> Verdict:
    """What the condition says now (used by ``evaluate`` and by the dry-run endpoint)."""
    if obs.price is None or obs.as_of is None:
        return Verdict(Signal.NO_DATA, None, "no quote for this coin")
    if is_stale(obs, stale_seconds=rule.stale_seconds, now=now):
        age = int((now - obs.as_of).total_seconds())
        return Verdict(
            Signal.NO_DATA,
            obs.price,
            f"feed stale: last quote {age}s old (limit {rule.stale_seconds}s)",
        )
    return check(
        rule.kind,
        rule.params,
        obs,
        active=state.state in ACTIVE,
        hysteresis_pct=rule.hysteresis_pct,
        previous=state.last_value,
    )


def _may_notify(rule: Rule, state: RuleState, now: datetime) -> bool:
    last = state.last_fired_at
    if last is None:
        return True
    if rule.trigger == Trigger.ONCE:
        return False
    if rule.trigger == Trigger.ONCE_PER_BAR:
        bar = max(rule.bar_seconds, 1)
        return int(now.timestamp()) // bar != int(last.timestamp()) // bar
    return (now - last) >= timedelta(seconds=rule.cooldown_seconds)


def evaluate(
    rule: Rule, observations: Observations, *, state: RuleState, now: datetime
) -> Transition | None:
    if rule.expires_at is not None and now >= rule.expires_at:
        return None
    v = verdict(rule, observations, state=state, now=now)
    signal = v.signal
    pending_since = state.pending_since
    if signal == Signal.MATCH:
        started = pending_since if state.state == State.PENDING and pending_since else now
        if rule.for_seconds <= 0 or (now - started) >= timedelta(seconds=rule.for_seconds):
            signal = Signal.MATCH_DUE
        pending_since = started
    to = next_state(state.state, signal)
    if to != State.PENDING:
        pending_since = None
    refire = (
        state.state == State.FIRING
        and to == State.FIRING
        and rule.trigger != Trigger.ONCE
        and observations.key != state.last_fired_key
        and _may_notify(rule, state, now)
    )
    if to == state.state and not refire:
        return None
    notify = to == State.FIRING and (refire or _may_notify(rule, state, now))
    values = {
        **v.values,
        "signal": str(v.signal),
        "price": observations.price,
        "source": observations.source,
        "as_of": observations.as_of.isoformat() if observations.as_of else None,
    }
    return Transition(
        from_state=state.state,
        to_state=to,
        at=now,
        observation_key=observations.key,
        value=v.value,
        reason=v.reason,
        values=values,
        notify=notify,
        pending_since=pending_since,
        completes=notify and rule.trigger == Trigger.ONCE,
    )
