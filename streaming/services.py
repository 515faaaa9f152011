"""The stream's write side: ``publish()``, called by the apps that own the data.

Domain apps decide payloads; this module assigns each message a monotonic ``seq`` per
channel, keeps a bounded buffer (for resume) and the channel's latest state (for snapshots),
and hands the message to the connected WebSocket/SSE subscribers.

Channels (``family:key``):

- ``quotes:*`` and ``quotes:<asset id>`` — markets (``fanout=True`` publishes a batch to
  ``quotes:*`` and each item to ``quotes:<item[key]>``)
- ``candles:<asset id>:<interval>`` — markets
- ``forecasts:<asset id>`` — forecasts
- ``news`` and ``news:<asset id>`` — news
- ``notifications:<user id>`` — alerts (clients subscribe to ``notifications``)

Call it on commit (``transaction.on_commit(lambda: publish(...))``). It never raises: a
failing stream is logged and counted, ingestion goes on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def publish(
    *,
    channel: str,
    items: Sequence[Mapping[str, Any]],
    key: str = "id",
    fanout: bool = False,
) -> None:
    """Publish ``items`` (JSON-able dicts, each with ``item[key]``) on ``channel``.

    Interface first: the implementation (seq, buffer, snapshot state, relay) follows.
    """
    return None
