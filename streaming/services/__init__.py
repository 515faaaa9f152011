"""The stream's services: what other apps and the transports (consumer, SSE) use.

``publish()`` is the write side (apps call it on commit). ``provider_register()`` lets the app
owning a channel family validate keys and build fresh snapshots. ``StreamSession`` + ``Outbox``
are a connection's state, shared by the WebSocket consumer and the SSE view. The sequence
numbers, buffers and snapshots live in ``log``/``reads``; the per-process fan-out in ``hub``
(fed by Redis pub/sub, or by the embedded ``relay``).
See docs/streaming.md for the protocol.
"""

from . import convert
from .channels import FAMILIES, Channel, ChannelError, provider_register, resolve
from .hub import ensure_feed, get_hub, stop_feeds
from .log import backend_name, get_log, reset_log
from .outbox import Outbox
from .publish import publish
from .reads import catch_up, clear_snapshot_cache, head, snapshot
from .session import StreamSession, error_frame

__all__ = [
    "FAMILIES",
    "Channel",
    "ChannelError",
    "Outbox",
    "StreamSession",
    "backend_name",
    "catch_up",
    "clear_snapshot_cache",
    "convert",
    "ensure_feed",
    "error_frame",
    "get_hub",
    "get_log",
    "head",
    "provider_register",
    "publish",
    "reset_log",
    "resolve",
    "snapshot",
    "stop_feeds",
]
