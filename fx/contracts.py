"""What ``fx`` hands to other apps (no Django imports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class DailyRates:
    """One publisher's rates of one day: ``rates[currency] = units per 1 USD``."""

    day: date
    rates: tuple[tuple[str, float], ...]
    source: str


@dataclass(frozen=True, slots=True)
class FiatRate:
    currency: str
    rate: float  # units per 1 USD
    day: date
    source: str
    fetched_at: datetime
