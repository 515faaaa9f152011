"""The stream log: a monotonic ``seq`` per channel and a bounded buffer of recent messages.

Two backends with one behaviour (both tested by the same tests):

- ``RedisLog`` (services mode): ``INCR`` for the seq and a sorted set scored by seq, appended
  and trimmed by one Lua script, so every process agrees on the numbers.
- ``DatabaseLog`` (embedded default): ``StreamChannel`` counter row + ``StreamEvent`` rows in
  one transaction; the web processes relay new rows by id (``relay``).

A message is ``{"channel", "seq", "ts", "key", "data": [items]}`` (``channel`` is the internal
name). ``since(channel, after_seq)`` returns what a client missed, or ``None`` when it cannot:
the buffer no longer reaches back that far, or ``after_seq`` is ahead of the log (a reset).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q

from streaming.models import StreamChannel, StreamEvent

Message = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _message(
    channel: str, seq: int, key: str, data: Sequence[Any], ts: str, epoch: str = ""
) -> Message:
    return {
        "channel": channel,
        "seq": seq,
        "epoch": epoch,
        "ts": ts,
        "key": key,
        "data": list(data),
    }


class StreamLog(Protocol):
    name: str

    def append(self, channel: str, data: Sequence[Any], *, key: str) -> Message: ...
    def append_many(self, batch: Sequence[tuple[str, Sequence[Any]]], *, key: str) -> None: ...
    def head(self, channel: str) -> int: ...
    def epoch(self, channel: str) -> str: ...
    def since(self, channel: str, after_seq: int) -> list[Message] | None: ...
    def recent(self, channel: str) -> list[Message]: ...


def buffer_size() -> int:
    return max(1, int(settings.STREAM_BUFFER_SIZE))


DB_EPOCH = "db"  # database counters are never flushed: one epoch


class DatabaseLog:
    name = "database"

    def epoch(self, channel: str) -> str:
        return DB_EPOCH

    def append(self, channel: str, data: Sequence[Any], *, key: str) -> Message:
        with transaction.atomic():
            StreamChannel.objects.get_or_create(name=channel)
            StreamChannel.objects.filter(name=channel).update(seq=F("seq") + 1)
            seq = StreamChannel.objects.filter(name=channel).values_list("seq", flat=True).get()
            message = _message(channel, seq, key, data, now_iso(), epoch=DB_EPOCH)
            StreamEvent.objects.create(channel=channel, seq=seq, message=message)
            StreamEvent.objects.filter(channel=channel, seq__lte=seq - buffer_size()).delete()
        return message

    def append_many(self, batch: Sequence[tuple[str, Sequence[Any]]], *, key: str) -> None:
        """One transaction and a handful of queries for a whole batch (a tick publishes 51
        channels: ``quotes:*`` and one per coin), instead of five queries per channel."""
        names = list(dict.fromkeys(name for name, _ in batch))
        if len(names) != len(batch):  # a channel twice: numbered one after the other
            for name, data in batch:
                self.append(name, data, key=key)
            return
        with transaction.atomic():
            StreamChannel.objects.bulk_create(
                [StreamChannel(name=n) for n in names], ignore_conflicts=True
            )
            StreamChannel.objects.filter(name__in=names).update(seq=F("seq") + 1)
            seqs = dict(StreamChannel.objects.filter(name__in=names).values_list("name", "seq"))
            ts = now_iso()
            StreamEvent.objects.bulk_create(
                [
                    StreamEvent(
                        channel=name,
                        seq=seqs[name],
                        message=_message(name, seqs[name], key, data, ts, epoch=DB_EPOCH),
                    )
                    for name, data in batch
                ]
            )
            old = Q()
            for name in names:
                old |= Q(channel=name, seq__lte=seqs[name] - buffer_size())
            StreamEvent.objects.filter(old).delete()

    def head(self, channel: str) -> int:
        row = StreamChannel.objects.filter(name=channel).values_list("seq", flat=True).first()
        return int(row or 0)

    def since(self, channel: str, after_seq: int) -> list[Message] | None:
        head = self.head(channel)
        if after_seq > head:
            return None
        if after_seq == head:
            return []
        rows = list(
            StreamEvent.objects.filter(channel=channel, seq__gt=after_seq)
            .order_by("seq")
            .values_list("message", flat=True)
        )
        if not rows or rows[0]["seq"] != after_seq + 1:
            return None
        return rows

    def recent(self, channel: str) -> list[Message]:
        return list(
            StreamEvent.objects.filter(channel=channel)
            .order_by("seq")
            .values_list("message", flat=True)
        )

    # embedded relay: rows after an id, in commit order
    def newest_id(self) -> int:
        return int(StreamEvent.objects.aggregate(m=Max("id"))["m"] or 0)

    def after_id(self, last_id: int, limit: int = 500) -> list[tuple[int, Message]]:
        return list(
            StreamEvent.objects.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "message")[:limit]
        )


# One script numbers, stores, trims and publishes (so a channel's messages are published in seq
# order, whoever publishes them). A counter that starts again (Redis restarted or flushed: it
# keeps nothing on disk) gets a new epoch, so a subscriber never mistakes the new numbers for
# ones it has already seen.
_APPEND = """
local seq = redis.call('INCR', KEYS[1])
if seq == 1 then redis.call('SET', KEYS[3], ARGV[3]) end
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[3], epoch)
end
local msg = string.gsub(ARGV[1], '"seq":0,', '"seq":' .. seq .. ',', 1)
msg = string.gsub(msg, '"epoch":"",', '"epoch":"' .. epoch .. '",', 1)
redis.call('ZADD', KEYS[2], seq, msg)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[2]) + 1))
redis.call('PUBLISH', ARGV[4], msg)
return {seq, msg}
"""


class RedisLog:
    """Keys ``cc:stream:seq:<channel>`` (counter) and ``cc:stream:buf:<channel>`` (zset).

    Every appended message is also published on ``live_channel`` (the web processes' feed,
    ``hub.py``). Pub/sub ignores the database number, so the channel's name carries it: two
    deployments (or test runs) on one Redis with different databases never hear each other.
    """

    name = "redis"

    def __init__(self, url: str, *, timeout: float) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        self._append = self.client.register_script(_APPEND)
        db = self.client.connection_pool.connection_kwargs.get("db", 0)
        self.live_channel = f"cc:stream:{db}:live"

    @staticmethod
    def _keys(channel: str) -> tuple[str, str]:
        return f"cc:stream:seq:{channel}", f"cc:stream:buf:{channel}"

    def append(self, channel: str, data: Sequence[Any], *, key: str) -> Message:
        draft = _message(channel, 0, key, data, now_iso())
        body = json.dumps(draft, separators=(",", ":"), allow_nan=False)
        keys = (*self._keys(channel), f"cc:stream:epoch:{channel}")
        args: list[str | int] = [body, buffer_size(), uuid.uuid4().hex[:12], self.live_channel]
        _seq, stored = self._append(keys=keys, args=args)
        return json.loads(stored)

    def append_many(self, batch: Sequence[tuple[str, Sequence[Any]]], *, key: str) -> None:
        """The batch's appends in one round trip (a pipeline of the same script, run in
        order by Redis: each channel's numbering and publish order are as with ``append``)."""
        pipe = self.client.pipeline(transaction=False)
        ts = now_iso()
        for channel, data in batch:
            draft = _message(channel, 0, key, data, ts)
            body = json.dumps(draft, separators=(",", ":"), allow_nan=False)
            keys = (*self._keys(channel), f"cc:stream:epoch:{channel}")
            args: list[str | int] = [body, buffer_size(), uuid.uuid4().hex[:12], self.live_channel]
            self._append(keys=keys, args=args, client=pipe)
        pipe.execute()

    def epoch(self, channel: str) -> str:
        raw: Any = self.client.get(f"cc:stream:epoch:{channel}")
        return raw.decode() if isinstance(raw, bytes) else (raw or "")

    def head(self, channel: str) -> int:
        raw: Any = self.client.get(self._keys(channel)[0])
        return int(raw or 0)

    def since(self, channel: str, after_seq: int) -> list[Message] | None:
        seq_key, buf_key = self._keys(channel)
        pipe = self.client.pipeline(transaction=True)
        pipe.get(seq_key)
        pipe.zrangebyscore(buf_key, f"({after_seq}", "+inf")
        head_raw, rows = pipe.execute()
        head = int(head_raw or 0)
        if after_seq > head:
            return None
        if after_seq == head:
            return []
        messages = [json.loads(r) for r in rows]
        if not messages or messages[0]["seq"] != after_seq + 1:
            return None
        return messages

    def recent(self, channel: str) -> list[Message]:
        rows: Any = self.client.zrange(self._keys(channel)[1], 0, -1)
        return [json.loads(r) for r in rows]


_lock = threading.Lock()
_log: StreamLog | None = None


def backend_name() -> str:
    choice = settings.STREAM_BACKEND
    if choice == "auto":
        return "redis" if settings.REDIS_URL else "database"
    if choice not in ("redis", "database"):
        raise ValueError(f"STREAM_BACKEND must be auto, redis or database, not {choice!r}")
    return choice


def get_log() -> StreamLog:
    """The process-wide log (settings read on first use, never at import time)."""
    global _log
    with _lock:
        if _log is None:
            if backend_name() == "redis":
                _log = RedisLog(settings.REDIS_URL, timeout=settings.STREAM_REDIS_TIMEOUT_SECONDS)
            else:
                _log = DatabaseLog()
        return _log


def reset_log() -> None:
    """Forget the process-wide log (tests that switch backends)."""
    global _log
    with _lock:
        _log = None
