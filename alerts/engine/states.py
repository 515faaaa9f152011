"""The alert state machine, as one table (Grafana's states: normal, pending, firing, resolved,
no data, error). ``TABLE[(state, signal)]`` is the next state; every pair is listed so a test
can walk all of them and a reader can see the whole machine on one screen.

- A condition that holds goes to *pending* until it has held ``for_seconds``, then *firing*.
- A firing alert whose condition clears is *resolved*; resolved rests until the next match.
- A stale or missing feed is *no data* from any state: it never fires and never passes
  silently as *normal*. A condition that cannot be computed is *error*.
"""

from __future__ import annotations

from alerts.contracts import Signal, State

N, P, F, R, ND, E = (
    State.NORMAL,
    State.PENDING,
    State.FIRING,
    State.RESOLVED,
    State.NO_DATA,
    State.ERROR,
)
M, MD, C, SND, SE = Signal.MATCH, Signal.MATCH_DUE, Signal.CLEAR, Signal.NO_DATA, Signal.ERROR

# fmt: off
TABLE: dict[tuple[State, Signal], State] = {
    #  state      match    match_due  clear  no_data  error
    (N, M): P,  (N, MD): F,  (N, C): N,  (N, SND): ND,  (N, SE): E,
    (P, M): P,  (P, MD): F,  (P, C): N,  (P, SND): ND,  (P, SE): E,
    (F, M): F,  (F, MD): F,  (F, C): R,  (F, SND): ND,  (F, SE): E,
    (R, M): P,  (R, MD): F,  (R, C): R,  (R, SND): ND,  (R, SE): E,
    (ND, M): P, (ND, MD): F, (ND, C): N, (ND, SND): ND, (ND, SE): E,
    (E, M): P,  (E, MD): F,  (E, C): N,  (E, SND): ND,  (E, SE): E,
}
# fmt: on

#: states in which the condition is "active" (hysteresis: it must move past the band to clear)
ACTIVE = frozenset({P, F})


def next_state(state: State, signal: Signal) -> State:
    return TABLE[(state, signal)]
