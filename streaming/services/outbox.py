"""A connection's bounded send queue (pure: no socket, no I/O; tested on its own).

Control frames (snapshots, replies, errors) keep their order in a small deque. Updates are
coalesced per channel: while an update for a channel waits to be sent, a newer one merges into
it (items by key, latest value wins) and the pending frame says ``from_seq``..``seq``, so a
client knows it lost no information, only intermediate values. Channels that must not lose
items (``coalesce=False``, e.g. notifications) merge by key too, which keeps every distinct
item. Memory is therefore bounded by channels x items per channel, whatever the publish rate;
``overloaded()`` tells the connection when a client has stayed behind for too long.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

Frame = dict[str, Any]


class Outbox:
    def __init__(
        self,
        *,
        max_control: int = 200,
        max_items: int = 5000,
        slow_after: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_control = max_control
        self.max_items = max_items
        self.slow_after = slow_after
        self.clock = clock
        self.control: deque[Frame] = deque()
        self.updates: OrderedDict[str, Frame] = OrderedDict()
        self._since: dict[str, float] = {}  # channel -> when its oldest pending update arrived
        self._control_since: float | None = None
        self.coalesced = 0  # updates merged into a pending one (a metric)
        self.overflowed = False

    def __len__(self) -> int:
        return len(self.control) + len(self.updates)

    def items_pending(self) -> int:
        return sum(len(f["data"]) for f in self.updates.values())

    def put_control(self, frame: Frame) -> None:
        if len(self.control) >= self.max_control:
            self.overflowed = True
            return
        if not self.control:
            self._control_since = self.clock()
        self.control.append(frame)

    def put_update(self, frame: Frame) -> None:
        """``frame``: ``{"type": "update", "channel", "seq", "from_seq", "key", "data", ...}``."""
        channel = frame["channel"]
        pending = self.updates.get(channel)
        if pending is None:
            self.updates[channel] = dict(frame)
            self._since[channel] = self.clock()
        else:
            key = frame.get("key") or "id"
            merged: dict[Any, Any] = {}
            for item in (*pending["data"], *frame["data"]):
                merged[item.get(key) if isinstance(item, dict) else id(item)] = item
            pending["data"] = list(merged.values())
            pending["seq"] = frame["seq"]
            pending["ts"] = frame.get("ts", pending.get("ts"))
            if frame.get("_ck") != pending.get("_ck"):  # items converted at two rates
                pending["_ck"] = f"{pending.get('_ck', '')}|{frame.get('_ck', '')}"
            self.coalesced += 1
        if self.items_pending() > self.max_items:
            self.overflowed = True

    def drop_channel(self, channel: str) -> None:
        self.updates.pop(channel, None)
        self._since.pop(channel, None)

    def pop(self) -> Frame | None:
        if self.control:
            frame = self.control.popleft()
            self._control_since = self.clock() if self.control else None
            return frame
        if self.updates:
            channel, frame = self.updates.popitem(last=False)
            self._since.pop(channel, None)
            return frame
        return None

    def oldest_age(self) -> float:
        now = self.clock()
        starts = list(self._since.values())
        if self._control_since is not None:
            starts.append(self._control_since)
        return now - min(starts) if starts else 0.0

    def overloaded(self) -> bool:
        """True when the client has stayed behind: too much pending or waiting too long."""
        if self.overflowed:
            return True
        if not self.control and not self.updates:
            return False  # the common case, checked for every connection twice a second
        return self.oldest_age() > self.slow_after


_ENCODED: OrderedDict[tuple[str, int, int, str, str], str] = OrderedDict()
_ENCODED_MAX = 2048


def encode(frame: Frame) -> str:
    """A frame as JSON text, encoded once per message for all subscribers of a public channel.

    With 1,000 subscribers on ``quotes:*`` the same update would otherwise be serialised
    1,000 times. Only updates of shared channels are cached: their content is fixed by
    (channel, from_seq, seq) within one epoch of the log (the key also holds the epoch and the
    last message's time, so numbers that start again after a Redis restart never hit an old
    entry). Private channels (``notifications``: the same public name for
    every user) are always encoded per connection. A converted frame (another ``vs``) carries
    ``_ck``, the name of the rates its items were converted at: part of the key, never sent.
    """
    if frame.get("type") != "update" or frame.get("channel", "").startswith("notifications"):
        return json.dumps(frame, separators=(",", ":"))
    ck = frame.get("_ck", "")
    key = (
        frame["channel"],
        frame["from_seq"],
        frame["seq"],
        frame.get("epoch", ""),
        frame.get("ts", "") + ("#" + ck if ck else ""),
    )
    text = _ENCODED.get(key)
    if text is None:
        sent = {k: v for k, v in frame.items() if k != "_ck"} if ck else frame
        text = json.dumps(sent, separators=(",", ":"))
        _ENCODED[key] = text
        if len(_ENCODED) > _ENCODED_MAX:
            _ENCODED.popitem(last=False)
    return text
