"""One client's subscriptions, shared by the WebSocket consumer and the SSE view.

The session joins its channels' groups on the event loop's hub (``hub.py``), which calls
``deliver`` for each message; the transport drains the ``Outbox`` (after ``await drain()``).
Per channel it keeps the last ``seq`` handed to the client and turns log messages into frames:

- subscribe: join the group first, then a snapshot (its ``seq`` is where updates continue);
- a message with ``seq <= last`` is a duplicate and dropped; one with ``seq > last + 1``
  means something was missed (a relay hiccup): the channel is marked behind and ``drain``
  fills the gap from the log's buffer, or sends ``reset`` and a fresh snapshot when the
  buffer no longer reaches back; a message from another epoch of the log is a reset too;
- resume(after_seq): what the client missed, or ``reset`` + snapshot.

A subscription may ask for another quote currency (``vs``): its snapshot and updates are
converted on the way out (``convert.py``), with rates refreshed in ``drain``.

``deliver`` runs on every message for every subscriber, so it is synchronous and small: the
in-order case queues the frame; anything that needs the log waits for ``drain``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

from . import convert, reads
from .channels import Channel, ChannelError, resolve, validate
from .hub import get_hub
from .log import Message, now_iso
from .outbox import Frame, Outbox


@dataclass
class Sub:
    channel: Channel
    last_seq: int
    epoch: str = ""  # the log's epoch the seqs belong to ("" = not known yet)
    vs: str = convert.USD
    conv: convert.Conversion | None = None  # None: sent as published (USD)
    conv_at: float = 0.0  # when ``conv`` was taken from the shared cache


def update_frame(sub: Sub, message: Message, *, from_seq: int | None = None) -> Frame:
    frame: Frame = {
        "type": "update",
        "channel": sub.channel.public,
        "seq": message["seq"],
        "from_seq": message["seq"] if from_seq is None else from_seq,
        "epoch": message.get("epoch", ""),
        "ts": message["ts"],
        "key": message.get("key", sub.channel.family.key),
        "data": message["data"],
    }
    conv = sub.conv
    if conv is not None:
        frame["data"] = convert.convert_items(
            conv,
            channel=sub.channel.internal,
            seq=int(message["seq"]),
            epoch=frame["epoch"],
            items=message["data"],
        )
        frame["vs"] = conv.vs
        frame["_ck"] = conv.token  # encoding cache key part (never sent)
    return frame


def _converted_snapshot(sub: Sub, snap: Frame) -> Frame:
    conv = sub.conv
    if conv is None:
        return snap
    data = convert.convert_items(
        conv,
        channel="snapshot:" + sub.channel.internal,
        seq=int(snap["seq"]),
        epoch=str(snap["epoch"]) + "|" + str(snap["ts"]),
        items=snap["data"],
    )
    return {**snap, "data": data, "vs": conv.vs}


def error_frame(code: str, message: str, **extra: Any) -> Frame:
    return {"type": "error", "code": code, "message": message, **extra}


class StreamSession:
    def __init__(
        self,
        *,
        outbox: Outbox,
        wake: Callable[[], None],
        user_id: int | None,
        max_subscriptions: int,
        vs: str = convert.USD,
    ) -> None:
        self.outbox = outbox
        self.wake = wake
        self.user_id = user_id
        self.max_subscriptions = max_subscriptions
        self.vs = vs  # the connection's default quote currency (``?vs=``)
        self._rates_checked = time.monotonic()
        self.hub = get_hub()
        self.subs: dict[str, Sub] = {}  # public name -> Sub
        self.by_internal: dict[str, Sub] = {}
        self.behind: dict[str, str] = {}  # public name -> why it needs the log ("gap", ...)

    @classmethod
    def open(
        cls, *, user_id: int | None, wake: Callable[[], None], vs: str = convert.USD
    ) -> StreamSession:
        """A connection's session with the configured limits (WebSocket and SSE alike).

        ``vs``: the quote currency of every subscription that names none (validated by the
        caller with ``convert.check_currency``)."""
        outbox = Outbox(
            max_items=settings.STREAM_MAX_PENDING_ITEMS,
            slow_after=settings.STREAM_SLOW_CLIENT_SECONDS,
        )
        return cls(
            outbox=outbox,
            wake=wake,
            user_id=user_id,
            max_subscriptions=settings.STREAM_MAX_SUBSCRIPTIONS,
            vs=vs,
        )

    # --- client actions -------------------------------------------------------------------
    async def resolve_checked(self, name: Any) -> Channel:
        channel = resolve(name, user_id=self.user_id)
        problem = await database_sync_to_async(validate)(channel)
        if problem:
            raise ChannelError("unknown_channel", problem)
        return channel

    def _room_for(self, name: Any) -> bool:
        if len(self.subs) < self.max_subscriptions:
            return True
        self.outbox.put_control(
            error_frame(
                "too_many_subscriptions",
                f"at most {self.max_subscriptions} channels per connection",
                channel=name,
            )
        )
        return False

    async def _checked_or_error(self, name: Any) -> Channel | None:
        try:
            return await self.resolve_checked(name)
        except ChannelError as exc:
            self.outbox.put_control(error_frame(exc.code, exc.message, channel=name))
            return None

    async def _conversion_or_error(
        self, channel: Channel, vs: str
    ) -> tuple[bool, convert.Conversion | None]:
        """(ok, conversion) of ``channel``'s family into ``vs``; an error frame when unknown."""
        try:
            conv = await database_sync_to_async(convert.conversion)(channel.family.name, vs)
        except ChannelError as exc:
            self.outbox.put_control(error_frame(exc.code, exc.message, channel=channel.public))
            return False, None
        return True, conv

    async def subscribe(self, names: list[Any], vs: Any = None) -> list[str]:
        """Subscribe each name (errors go to the outbox, one per bad name); returns the new ones.

        ``vs`` (default: the connection's): the quote currency of these channels. A channel
        already subscribed in another currency switches to ``vs`` with a fresh snapshot.
        """
        try:
            wanted = self.vs if vs is None else convert.normalise(vs)
        except ChannelError as exc:
            self.outbox.put_control(error_frame(exc.code, exc.message))
            return []
        added: list[str] = []
        for name in names:
            current = self.subs.get(name.strip()) if isinstance(name, str) else None
            if current is not None and current.vs == wanted:
                continue  # already subscribed: nothing to resend
            if current is None and not self._room_for(name):
                continue
            channel = current.channel if current else await self._checked_or_error(name)
            if channel is None:
                continue
            ok, conv = await self._conversion_or_error(channel, wanted)
            if not ok:
                continue
            sub = current or self._attach(channel)
            self._set_currency(sub, wanted, conv)
            snap = await database_sync_to_async(reads.snapshot)(channel)
            sub.last_seq = snap["seq"]
            sub.epoch = snap["epoch"]
            self.behind.pop(channel.public, None)  # the snapshot is newer than any gap seen
            if current is not None:
                self.outbox.drop_channel(channel.public)  # pending updates are in the old vs
            self.outbox.put_control(_converted_snapshot(sub, snap))
            added.append(channel.public)
        return added

    def _set_currency(self, sub: Sub, vs: str, conv: convert.Conversion | None) -> None:
        sub.vs = vs if conv is not None else convert.USD
        sub.conv = conv
        sub.conv_at = time.monotonic()

    async def unsubscribe(self, names: list[Any]) -> list[str]:
        removed = []
        for name in names:
            sub = self.subs.pop(name, None) if isinstance(name, str) else None
            if sub is None:
                self.outbox.put_control(
                    error_frame("not_subscribed", f"not subscribed to {name!r}", channel=name)
                )
                continue
            self._detach(sub)
            removed.append(name)
        return removed

    def close(self) -> None:
        """The connection ended: leave every group."""
        for sub in list(self.subs.values()):
            self._detach(sub)

    async def resume(self, name: Any, after_seq: Any, epoch: Any = None, vs: Any = None) -> None:
        if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
            self.outbox.put_control(
                error_frame("bad_request", "after_seq must be a non-negative integer", channel=name)
            )
            return
        try:
            wanted = None if vs is None else convert.normalise(vs)
        except ChannelError as exc:
            self.outbox.put_control(error_frame(exc.code, exc.message, channel=name))
            return
        sub = self.subs.get(name) if isinstance(name, str) else None
        if sub is None:
            if not self._room_for(name):
                return
            channel = await self._checked_or_error(name)
            if channel is None:
                return
            ok, conv = await self._conversion_or_error(channel, wanted or self.vs)
            if not ok:
                return
            sub = self._attach(channel)
            self._set_currency(sub, wanted or self.vs, conv)
        elif wanted is not None and wanted != sub.vs:
            ok, conv = await self._conversion_or_error(sub.channel, wanted)
            if not ok:
                return
            self._set_currency(sub, wanted, conv)
            self.outbox.drop_channel(sub.channel.public)  # pending updates are in the old vs
        self.behind.pop(sub.channel.public, None)
        sub.last_seq = after_seq
        sub.epoch = epoch if isinstance(epoch, str) else ""
        if sub.epoch:
            current = await database_sync_to_async(reads.epoch)(sub.channel)
            if current and current != sub.epoch:
                await self._reset(sub, reason="log_restarted")
                return
        await self._catch_up(sub, reason_if_lost="too_old")

    # --- messages from the hub -----------------------------------------------------------
    def deliver(self, message: Message) -> None:
        """Take one message (called by the hub, once per message; never blocks)."""
        sub = self.by_internal.get(message.get("channel", ""))
        if sub is None:
            return  # unsubscribed while it was in flight
        public = sub.channel.public
        seq = int(message["seq"])
        epoch = message.get("epoch", "")
        if sub.epoch and epoch and epoch != sub.epoch:
            self.behind[public] = "log_restarted"  # the numbers started again
        elif seq <= sub.last_seq:
            return  # duplicate (already in a snapshot or a catch-up)
        elif seq > sub.last_seq + 1:
            self.behind.setdefault(public, "gap")
        elif public in self.behind:
            return  # the catch-up from the log will bring it, in order
        else:
            sub.last_seq = seq
            sub.epoch = epoch or sub.epoch
            self.outbox.put_update(update_frame(sub, message))
        self.wake()

    def resync(self) -> None:
        """The feed was interrupted: check every channel against the log on the next drain."""
        for public in self.subs:
            self.behind.setdefault(public, "gap")
        self.wake()

    async def drain(self) -> None:
        """Fill what ``deliver`` could not: gaps from the log's buffer, else reset + snapshot.

        Also takes fresh rates for converted subscriptions (at most once a second)."""
        now = time.monotonic()
        if now - self._rates_checked >= 1.0:
            self._rates_checked = now
            await self._refresh_rates()
        while self.behind:
            public, reason = self.behind.popitem()
            sub = self.subs.get(public)
            if sub is None:
                continue
            if reason == "log_restarted":
                await self._reset(sub, reason=reason)
            else:
                await self._catch_up(sub, reason_if_lost=reason)

    async def _refresh_rates(self) -> None:
        for sub in list(self.subs.values()):
            if sub.conv is None or not convert.expired(sub.conv_at):
                continue
            try:
                conv = await database_sync_to_async(convert.conversion)(
                    sub.channel.family.name, sub.vs
                )
            except Exception:  # keep the last rate: it says its own as_of
                sub.conv_at = time.monotonic()
                continue
            if conv is not None:
                sub.conv = conv
            sub.conv_at = time.monotonic()

    # --- internals --------------------------------------------------------------------------
    def _attach(self, channel: Channel) -> Sub:
        self.hub.join(channel.group, self)
        sub = Sub(channel=channel, last_seq=0)
        self.subs[channel.public] = sub
        self.by_internal[channel.internal] = sub
        return sub

    def _detach(self, sub: Sub) -> None:
        self.hub.leave(sub.channel.group, self)
        self.subs.pop(sub.channel.public, None)
        self.by_internal.pop(sub.channel.internal, None)
        self.behind.pop(sub.channel.public, None)
        self.outbox.drop_channel(sub.channel.public)

    async def _catch_up(self, sub: Sub, *, reason_if_lost: str) -> None:
        missed = await database_sync_to_async(reads.catch_up)(sub.channel, sub.last_seq)
        if self.subs.get(sub.channel.public) is not sub:
            return  # unsubscribed meanwhile
        if missed and sub.epoch and any(m.get("epoch", sub.epoch) != sub.epoch for m in missed):
            missed = None
            reason_if_lost = "log_restarted"
        if missed is None:
            await self._reset(sub, reason=reason_if_lost)
            return
        for message in missed:
            if message["seq"] <= sub.last_seq:
                continue  # delivered in order while the log was being read
            self.outbox.put_update(update_frame(sub, message))
            sub.last_seq = message["seq"]
            sub.epoch = message.get("epoch", sub.epoch)

    async def _reset(self, sub: Sub, *, reason: str) -> None:
        """Tell the client its view is lost (``reason``), then send a fresh snapshot."""
        snap = await database_sync_to_async(reads.snapshot)(sub.channel)
        if self.subs.get(sub.channel.public) is not sub:
            return  # unsubscribed meanwhile
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
        self.outbox.put_control(_converted_snapshot(sub, snap))
        sub.last_seq = snap["seq"]
        sub.epoch = snap["epoch"]

    def positions(self) -> dict[str, int]:
        """Public channel -> last seq handed out (the SSE event id)."""
        return {name: sub.last_seq for name, sub in self.subs.items()}
