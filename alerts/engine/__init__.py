"""The pure half of alerts: conditions, the state machine and ``evaluate`` (no ORM, no I/O)."""

from .evaluate import evaluate
from .states import TABLE, next_state

__all__ = ["TABLE", "evaluate", "next_state"]
