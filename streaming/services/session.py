"""One client's subscriptions, shared by the WebSocket consumer and the SSE view.

The transport supplies ``join(group)``/``leave(group)`` and drains the ``Outbox``; this class
keeps, per channel, the last ``seq`` handed to the client and turns log messages into frames:

- subscribe: join the group first, then a snapshot (its ``seq`` is where updates continue);
- a message with ``seq <= last`` is a duplicate and dropped; one with ``seq > last + 1``
  means something was missed (a relay hiccup): the gap is filled from the log's buffer, or
  the client gets ``reset`` and a fresh snapshot when the buffer no longer reaches back;
- resume(after_seq): what the client missed, or ``reset`` + snapshot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from . import reads
from .channels import Channel, ChannelError, resolve, validate
from .log import Message, now_iso
from .outbox import Frame, Outbox


@dataclass
class Sub:
    channel: Channel
    last_seq: int
    epoch: str = ""  # the log's epoch the seqs belong to ("" = not known yet)


def update_frame(sub: Sub, message: Message, *, from_seq: int | None = None) -> Frame:
    return {
        "type": "update",
        "channel": sub.channel.public,
        "seq": message["seq"],
        "from_seq": message["seq"] if from_seq is None else from_seq,
        "epoch": message.get("epoch", ""),
        "ts": message["ts"],
        "key": message.get("key", sub.channel.family.key),
        "data": message["data"],
    }


def error_frame(code: str, message: str, **extra: Any) -> Frame:
    return {"type": "error", "code": code, "message": message, **extra}


class StreamSession:
    def __init__(
        self,
        *,
        outbox: Outbox,
        join: Callable[[str], Awaitable[None]],
        leave: Callable[[str], Awaitable[None]],
        user_id: int | None,
        max_subscriptions: int,
    ) -> None:
        self.outbox = outbox
        self.join = join
        self.leave = leave
        self.user_id = user_id
        self.max_subscriptions = max_subscriptions
        self.subs: dict[str, Sub] = {}  # public name -> Sub
        self.by_internal: dict[str, Sub] = {}

    # --- client actions -------------------------------------------------------------------
    async def resolve_checked(self, name: Any) -> Channel:
        channel = resolve(name, user_id=self.user_id)
        problem = await database_sync_to_async(validate)(channel)
        if problem:
            raise ChannelError("unknown_channel", problem)
        return channel

    async def subscribe(self, names: list[Any]) -> list[str]:
        """Subscribe each name (errors go to the outbox, one per bad name); returns the new ones."""
        added: list[str] = []
        for name in names:
            if isinstance(name, str) and name.strip() in self.subs:
                continue  # already subscribed: nothing to resend
            if len(self.subs) >= self.max_subscriptions:
                self.outbox.put_control(
                    error_frame(
                        "too_many_subscriptions",
                        f"at most {self.max_subscriptions} channels per connection",
                        channel=name,
                    )
                )
                continue
            try:
                channel = await self.resolve_checked(name)
            except ChannelError as exc:
                self.outbox.put_control(error_frame(exc.code, exc.message, channel=name))
                continue
            await self._attach(channel)
            snap = await database_sync_to_async(reads.snapshot)(channel)
            self.subs[channel.public].last_seq = snap["seq"]
            self.subs[channel.public].epoch = snap["epoch"]
            self.outbox.put_control(snap)
            added.append(channel.public)
        return added

    async def unsubscribe(self, names: list[Any]) -> list[str]:
        removed = []
        for name in names:
            sub = self.subs.pop(name, None) if isinstance(name, str) else None
            if sub is None:
                self.outbox.put_control(
                    error_frame("not_subscribed", f"not subscribed to {name!r}", channel=name)
                )
                continue
            self.by_internal.pop(sub.channel.internal, None)
            self.outbox.drop_channel(sub.channel.public)
            await self.leave(sub.channel.group)
            removed.append(name)
        return removed

    async def resume(self, name: Any, after_seq: Any, epoch: Any = None) -> None:
        if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
            self.outbox.put_control(
                error_frame("bad_request", "after_seq must be a non-negative integer", channel=name)
            )
            return
        sub = self.subs.get(name) if isinstance(name, str) else None
        if sub is None:
            if len(self.subs) >= self.max_subscriptions:
                self.outbox.put_control(
                    error_frame(
                        "too_many_subscriptions",
                        f"at most {self.max_subscriptions} channels per connection",
                        channel=name,
                    )
                )
                return
            try:
                channel = await self.resolve_checked(name)
            except ChannelError as exc:
                self.outbox.put_control(error_frame(exc.code, exc.message, channel=name))
                return
            sub = await self._attach(channel)
        sub.last_seq = after_seq
        sub.epoch = epoch if isinstance(epoch, str) else ""
        if sub.epoch:
            current = await database_sync_to_async(reads.epoch)(sub.channel)
            if current and current != sub.epoch:
                await self._reset(sub, reason="log_restarted")
                return
        await self._catch_up(sub, reason_if_lost="too_old")

    # --- messages from the channel layer ------------------------------------------------
    async def on_message(self, message: Message) -> None:
        sub = self.by_internal.get(message.get("channel", ""))
        if sub is None:
            return  # unsubscribed while it was in flight
        seq = int(message["seq"])
        epoch = message.get("epoch", "")
        if sub.epoch and epoch and epoch != sub.epoch:
            await self._reset(sub, reason="log_restarted")  # the numbers started again
            return
        if seq <= sub.last_seq:
            return  # duplicate (already in a snapshot or a catch-up)
        if seq > sub.last_seq + 1:
            await self._catch_up(sub, reason_if_lost="gap")
            return
        sub.last_seq = seq
        sub.epoch = epoch or sub.epoch
        self.outbox.put_update(update_frame(sub, message))

    # --- internals --------------------------------------------------------------------------
    async def _attach(self, channel: Channel) -> Sub:
        await self.join(channel.group)
        sub = Sub(channel=channel, last_seq=0)
        self.subs[channel.public] = sub
        self.by_internal[channel.internal] = sub
        return sub

    async def _catch_up(self, sub: Sub, *, reason_if_lost: str) -> None:
        missed = await database_sync_to_async(reads.catch_up)(sub.channel, sub.last_seq)
        if missed and sub.epoch and any(m.get("epoch", sub.epoch) != sub.epoch for m in missed):
            missed = None
            reason_if_lost = "log_restarted"
        if missed is None:
            await self._reset(sub, reason=reason_if_lost)
            return
        for message in missed:
            self.outbox.put_update(update_frame(sub, message))
            sub.last_seq = message["seq"]
            sub.epoch = message.get("epoch", sub.epoch)

    async def _reset(self, sub: Sub, *, reason: str) -> None:
        """Tell the client its view is lost (``reason``), then send a fresh snapshot."""
        snap = await database_sync_to_async(reads.snapshot)(sub.channel)
        if reason != "log_restarted" and snap["seq"] < sub.last_seq:
            reason = "ahead_of_server"
        self.outbox.drop_channel(sub.channel.public)
        self.outbox.put_control(
            {
                "type": "reset",
                "channel": sub.channel.public,
                "reason": reason,
                "after_seq": sub.last_seq,
                "seq": snap["seq"],
                "epoch": snap["epoch"],
                "ts": now_iso(),
            }
        )
        self.outbox.put_control(snap)
        sub.last_seq = snap["seq"]
        sub.epoch = snap["epoch"]

    def positions(self) -> dict[str, int]:
        """Public channel -> last seq handed out (the SSE event id)."""
        return {name: sub.last_seq for name, sub in self.subs.items()}
