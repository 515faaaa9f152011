"""The stream's services: what other apps and the transports (consumer, SSE) use.

``publish()`` is the write side (apps call it on commit). ``provider_register()`` lets the app
owning a channel family validate keys and build fresh snapshots. ``StreamSession`` + ``Outbox``
are a connection's state, shared by the WebSocket consumer and the SSE view. The sequence
numbers, buffers and snapshots live in ``log``/``reads``; the embedded relay in ``relay``.
See docs/streaming.md for the protocol.
"""

from .channels import FAMILIES, Channel, ChannelError, provider_register, resolve
from .log import backend_name, get_log, reset_log
from .outbox import Outbox
from .publish import publish
from .reads import catch_up, clear_snapshot_cache, head, snapshot
from .relay import ensure_relay
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
    "ensure_relay",
    "error_frame",
    "get_log",
    "head",
    "provider_register",
    "publish",
    "reset_log",
    "resolve",
    "snapshot",
]
