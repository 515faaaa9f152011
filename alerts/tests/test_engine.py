"""The pure half: the state table (every pair), conditions, and ``evaluate`` (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.contracts import (
    ForecastView,
    Kind,
    Observations,
    Rule,
    RuleState,
    Signal,
    State,
    Trigger,
)
from alerts.engine import TABLE, evaluate
from alerts.engine.conditions import describe, probability_above
from alerts.engine.states import ACTIVE

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def obs(price: float | None, *, at: datetime = NOW, **kw) -> Observations:
    return Observations(asset_id="bitcoin", price=price, as_of=at, source="replay", **kw)


def rule(kind: Kind = Kind.GREATER_THAN, **kw) -> Rule:
    params = kw.pop("params", {"value": 100.0})
    return Rule(id=1, kind=kind, params=params, **kw)


# --- the table -----------------------------------------------------------------------------
def test_the_table_covers_every_state_and_signal_pair():
    assert set(TABLE) == {(s, g) for s in State for g in Signal}
    assert set(TABLE.values()) <= set(State)


@pytest.mark.parametrize("state", list(State))
def test_no_data_and_error_are_reached_from_every_state(state):
    assert TABLE[(state, Signal.NO_DATA)] == State.NO_DATA
    assert TABLE[(state, Signal.ERROR)] == State.ERROR


@pytest.mark.parametrize("state", list(State))
def test_a_due_match_fires_from_every_state(state):
    assert TABLE[(state, Signal.MATCH_DUE)] == State.FIRING


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.NORMAL, State.NORMAL),
        (State.PENDING, State.NORMAL),
        (State.FIRING, State.RESOLVED),
        (State.RESOLVED, State.RESOLVED),
        (State.NO_DATA, State.NORMAL),
        (State.ERROR, State.NORMAL),
    ],
)
def test_a_clear_condition_resolves_a_firing_alert_and_normalises_the_rest(state, expected):
    assert TABLE[(state, Signal.CLEAR)] == expected


def test_only_a_firing_alert_can_be_resolved():
    into_resolved = {s for (s, _), to in TABLE.items() if to == State.RESOLVED and s != to}
    assert into_resolved == {State.FIRING}


def test_an_undue_match_waits_in_pending_unless_already_firing():
    for state in State:
        expected = State.FIRING if state == State.FIRING else State.PENDING
        assert TABLE[(state, Signal.MATCH)] == expected


# --- evaluate over arbitrary histories --------------------------------------------------------
states = st.builds(
    RuleState,
    state=st.sampled_from(list(State)),
    pending_since=st.none() | st.just(NOW - timedelta(minutes=10)),
    last_value=st.none() | st.floats(1, 1000),
    last_fired_at=st.none() | st.just(NOW - timedelta(hours=2)),
)
prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(state=states, price=prices, stale=st.booleans(), trigger=st.sampled_from(list(Trigger)))
def test_a_stale_feed_never_fires_and_never_passes_as_normal(state, price, stale, trigger):
    at = NOW - timedelta(seconds=601 if stale else 5)
    t = evaluate(rule(trigger=trigger, stale_seconds=600), obs(price, at=at), state=state, now=NOW)
    if stale:
        if state.state == State.NO_DATA:
            assert t is None
        else:
            assert t is not None and t.to_state == State.NO_DATA and not t.notify


@settings(max_examples=300, deadline=None)
@given(state=states, price=prices, trigger=st.sampled_from(list(Trigger)))
def test_evaluation_is_idempotent_once_its_transition_is_stored(state, price, trigger):
    r = rule(trigger=trigger, cooldown_seconds=60)
    o = obs(price)
    t = evaluate(r, o, state=state, now=NOW)
    if t is None:
        return
    stored = RuleState(
        state=t.to_state,
        since=NOW,
        pending_since=t.pending_since,
        last_value=price,
        last_fired_at=NOW if t.notify else state.last_fired_at,
        last_fired_key=t.observation_key if t.notify else state.last_fired_key,
    )
    again = evaluate(r, o, state=stored, now=NOW)
    assert again is None or not again.notify


@settings(max_examples=200, deadline=None)
@given(state=states, price=prices)
def test_every_transition_moves_along_the_table(state, price):
    t = evaluate(rule(), obs(price), state=state, now=NOW)
    if t is not None:
        assert t.from_state == state.state
        assert t.to_state in {TABLE[(state.state, g)] for g in Signal}


# --- conditions ---------------------------------------------------------------------------
def test_crosses_above_needs_the_previous_value_no_firing_on_first_observation():
    r = rule(Kind.CROSSES_ABOVE)
    assert evaluate(r, obs(150.0), state=RuleState(), now=NOW) is None
    t = evaluate(r, obs(150.0), state=RuleState(last_value=90.0), now=NOW)
    assert t is not None and t.to_state == State.FIRING and t.notify
    assert "crossed above 100" in t.reason


def test_crosses_below_fires_on_the_way_down_only():
    r = rule(Kind.CROSSES_BELOW)
    assert evaluate(r, obs(110.0), state=RuleState(last_value=120.0), now=NOW) is None
    t = evaluate(r, obs(95.0), state=RuleState(last_value=101.0), now=NOW)
    assert t is not None and t.notify


def test_hysteresis_keeps_a_hovering_price_firing_instead_of_flapping():
    r = rule(Kind.GREATER_THAN, hysteresis_pct=1.0, cooldown_seconds=3600)  # band: 1.0
    firing = RuleState(state=State.FIRING, last_fired_at=NOW, last_fired_key="x")
    assert evaluate(r, obs(99.5), state=firing, now=NOW) is None  # inside the band: holds
    t = evaluate(r, obs(98.9), state=firing, now=NOW)  # past the band: resolves
    assert t is not None and t.to_state == State.RESOLVED
    # without hysteresis the same dip resolves at once
    plain = rule(cooldown_seconds=3600)
    assert evaluate(plain, obs(99.5), state=firing, now=NOW).to_state == State.RESOLVED


def test_pending_period_delays_firing_until_it_has_held():
    r = rule(for_seconds=300)
    t = evaluate(r, obs(120.0), state=RuleState(), now=NOW)
    assert t.to_state == State.PENDING and t.pending_since == NOW and not t.notify
    pending = RuleState(state=State.PENDING, pending_since=NOW)
    assert evaluate(r, obs(120.0), state=pending, now=NOW + timedelta(seconds=120)) is None
    t = evaluate(r, obs(121.0), state=pending, now=NOW + timedelta(seconds=300))
    assert t.to_state == State.FIRING and t.notify


def test_once_completes_and_never_refires():
    r = rule(trigger=Trigger.ONCE)
    t = evaluate(r, obs(120.0), state=RuleState(), now=NOW)
    assert t.notify and t.completes
    fired = RuleState(state=State.FIRING, last_fired_at=NOW, last_fired_key=t.observation_key)
    later = NOW + timedelta(hours=1)
    assert evaluate(r, obs(130.0, at=later), state=fired, now=later) is None


def test_every_time_refires_on_new_observations_after_the_cooldown_only():
    r = rule(trigger=Trigger.EVERY_TIME, cooldown_seconds=600)
    fired = RuleState(state=State.FIRING, last_fired_at=NOW, last_fired_key="k")
    soon = NOW + timedelta(seconds=60)
    assert evaluate(r, obs(130.0, at=soon), state=fired, now=soon) is None
    late = NOW + timedelta(seconds=601)
    t = evaluate(r, obs(130.0, at=late), state=fired, now=late)
    assert t is not None and t.from_state == t.to_state == State.FIRING and t.notify


def test_once_per_bar_refires_in_the_next_bar_only():
    r = rule(trigger=Trigger.ONCE_PER_BAR, bar_seconds=3600)
    fired = RuleState(state=State.FIRING, last_fired_at=NOW, last_fired_key="k")
    same_bar = NOW + timedelta(minutes=30)
    assert evaluate(r, obs(130.0, at=same_bar), state=fired, now=same_bar) is None
    next_bar = NOW + timedelta(minutes=61)
    assert evaluate(r, obs(130.0, at=next_bar), state=fired, now=next_bar).notify


def test_expired_rules_do_nothing():
    r = rule(expires_at=NOW - timedelta(seconds=1))
    assert evaluate(r, obs(500.0), state=RuleState(), now=NOW) is None


def test_missing_quote_is_no_data():
    t = evaluate(rule(), obs(None), state=RuleState(), now=NOW)
    assert t.to_state == State.NO_DATA


@pytest.mark.parametrize(
    ("direction", "change", "fires"),
    [
        ("up", 6.0, True),
        ("up", -6.0, False),
        ("down", -6.0, True),
        ("either", -6.0, True),
        ("either", 4.0, False),
    ],
)
def test_percent_move_in_a_window(direction, change, fires):
    r = rule(Kind.PCT_MOVE, params={"window": "24h", "direction": direction, "percent": 5.0})
    t = evaluate(r, obs(100.0, change_24h=change), state=RuleState(), now=NOW)
    assert (t is not None and t.notify) == fires


def test_range_enter_and_exit():
    enter = rule(Kind.ENTERS_RANGE, params={"low": 90.0, "high": 110.0})
    exit_ = rule(Kind.EXITS_RANGE, params={"low": 90.0, "high": 110.0})
    assert evaluate(enter, obs(100.0), state=RuleState(), now=NOW).notify
    assert evaluate(exit_, obs(100.0), state=RuleState(), now=NOW) is None
    assert evaluate(exit_, obs(111.0), state=RuleState(), now=NOW).notify


def test_volume_spike_against_the_30_day_median_and_no_data_without_it():
    r = rule(Kind.VOLUME_SPIKE, params={"multiple": 3.0})
    spike = obs(100.0, volume_24h=4e9, volume_median_30d=1e9)
    assert evaluate(r, spike, state=RuleState(), now=NOW).notify
    calm = obs(100.0, volume_24h=2e9, volume_median_30d=1e9)
    assert evaluate(r, calm, state=RuleState(), now=NOW) is None
    unknown = obs(100.0, volume_24h=2e9)
    assert evaluate(r, unknown, state=RuleState(), now=NOW).to_state == State.NO_DATA


def _forecast(rel_mae: float = 1.02) -> ForecastView:
    return ForecastView(
        issued_at=NOW,
        model="naive",
        points={1: (100.0, {"90": (90.0, 110.0)}), 7: (100.0, {"90": (75.0, 130.0)})},
        rel_mae=rel_mae,
    )


def test_probability_from_the_band_is_half_at_the_point_and_five_percent_at_the_edge():
    assert probability_above(100.0, 90.0, 110.0, 100.0) == pytest.approx(0.5)
    assert probability_above(100.0, 90.0, 110.0, 110.0) == pytest.approx(0.05, abs=0.01)


def test_forecast_conditions():
    above = rule(
        Kind.FORECAST_PROB_ABOVE, params={"value": 110.0, "horizon": 7, "probability": 0.2}
    )
    t = evaluate(above, obs(100.0, forecast=_forecast()), state=RuleState(), now=NOW)
    assert t.notify and "7d" in t.reason
    band = rule(Kind.FORECAST_BAND_EXIT, params={})
    assert evaluate(band, obs(115.0, forecast=_forecast()), state=RuleState(), now=NOW).notify
    assert evaluate(band, obs(100.0, forecast=_forecast()), state=RuleState(), now=NOW) is None
    skill = rule(Kind.FORECAST_SKILL_BELOW_NAIVE, params={})
    assert evaluate(skill, obs(100.0, forecast=_forecast(1.02)), state=RuleState(), now=NOW).notify
    assert evaluate(skill, obs(100.0, forecast=_forecast(0.98)), state=RuleState(), now=NOW) is None
    no_fc = evaluate(band, obs(100.0), state=RuleState(), now=NOW)
    assert no_fc.to_state == State.NO_DATA


def test_bad_parameters_are_an_error_state_not_a_crash():
    r = rule(params={"value": "abc"})
    assert evaluate(r, obs(100.0), state=RuleState(), now=NOW).to_state == State.ERROR


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_has_a_readable_description(kind):
    params = {
        "value": 1.0,
        "window": "1h",
        "percent": 2.0,
        "low": 1.0,
        "high": 2.0,
        "multiple": 3.0,
        "horizon": 7,
        "probability": 0.5,
    }
    text = describe(kind, params)
    assert text and text != str(kind)


def test_active_states_are_pending_and_firing():
    assert frozenset({State.PENDING, State.FIRING}) == ACTIVE
