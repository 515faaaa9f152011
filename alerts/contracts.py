"""Frozen shapes of alert evaluation (no Django imports: the engine is pure).

``Rule`` is what the user asked for, ``RuleState`` what the rule remembers about one coin,
``Observations`` what is known about that coin now, ``Transition`` what changed.
Prices and volumes are floats, as in ``markets.contracts``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    NORMAL = "normal"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NO_DATA = "no_data"
    ERROR = "error"


class Signal(StrEnum):
    """What one evaluation saw, before the state machine decides what it means."""

    MATCH = "match"  # condition holds, pending period not yet served
    MATCH_DUE = "match_due"  # condition holds and has held for the pending period
    CLEAR = "clear"  # condition does not hold (outside the hysteresis band)
    NO_DATA = "no_data"  # feed stale or missing
    ERROR = "error"  # the condition could not be computed


class Kind(StrEnum):
    CROSSES_ABOVE = "crosses_above"
    CROSSES_BELOW = "crosses_below"
    GREATER_THAN = "greater_than"
    LESS_THAN = "less_than"
    PCT_MOVE = "pct_move"
    ENTERS_RANGE = "enters_range"
    EXITS_RANGE = "exits_range"
    VOLUME_SPIKE = "volume_spike"
    FORECAST_PROB_ABOVE = "forecast_prob_above"
    FORECAST_PROB_BELOW = "forecast_prob_below"
    FORECAST_BAND_EXIT = "forecast_band_exit"
    FORECAST_SKILL_BELOW_NAIVE = "forecast_skill_below_naive"
    ANOMALY = "anomaly"  # subscribes to the anomaly detector's flags


FORECAST_KINDS = frozenset(
    {
        Kind.FORECAST_PROB_ABOVE,
        Kind.FORECAST_PROB_BELOW,
        Kind.FORECAST_BAND_EXIT,
        Kind.FORECAST_SKILL_BELOW_NAIVE,
    }
)


class Trigger(StrEnum):
    ONCE = "once"  # fire once, then the alert completes
    ONCE_PER_BAR = "once_per_bar"  # at most one notification per bar of ``bar_seconds``
    EVERY_TIME = "every_time"  # re-notify while firing, at most every ``cooldown_seconds``


@dataclass(frozen=True)
class Rule:
    id: int
    kind: Kind
    params: dict[str, Any]
    trigger: Trigger = Trigger.EVERY_TIME
    for_seconds: int = 0
    hysteresis_pct: float = 0.0
    cooldown_seconds: int = 0
    bar_seconds: int = 3600
    stale_seconds: int = 300
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RuleState:
    state: State = State.NORMAL
    since: datetime | None = None
    pending_since: datetime | None = None
    last_value: float | None = None  # the price this rule saw last time (for crossings)
    last_fired_at: datetime | None = None
    last_fired_key: str = ""


@dataclass(frozen=True)
class ForecastView:
    """The latest served forecast of one coin, as alerts need it (from forecasts.selectors)."""

    issued_at: datetime
    model: str
    # horizon (days) -> (point, {level: (lower, upper)})
    points: dict[int, tuple[float, dict[str, tuple[float, float]]]]
    rel_mae: float | None  # served model's walk-forward relMAE vs naive (1.0 = naive)


@dataclass(frozen=True)
class AnomalyView:
    """The coin's most recent anomaly flag (from the daily detector)."""

    open_time: datetime
    kind: str
    score: float
    value: float


@dataclass(frozen=True)
class Observations:
    asset_id: str
    price: float | None
    as_of: datetime | None
    source: str = ""
    volume_24h: float | None = None
    change_1h: float | None = None
    change_24h: float | None = None
    change_7d: float | None = None
    volume_median_30d: float | None = None
    forecast: ForecastView | None = None
    anomaly: AnomalyView | None = None

    @property
    def key(self) -> str:
        """Identity of the triggering observation (one event per alert per observation)."""
        return f"{self.source}@{self.as_of.isoformat() if self.as_of else '-'}"


@dataclass(frozen=True)
class Verdict:
    """A condition's answer: does it hold, on which value, and why (readable)."""

    signal: Signal
    value: float | None = None
    reason: str = ""
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    from_state: State
    to_state: State
    at: datetime
    observation_key: str
    value: float | None
    reason: str
    values: dict[str, Any]
    notify: bool  # a user-visible firing (or re-firing)
    pending_since: datetime | None
    completes: bool = False  # ``once`` alerts stop after this
