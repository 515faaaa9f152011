"""Channel names: which exist, who may subscribe, and where snapshots come from.

A channel is ``family[:key...]``. The families are fixed here; the apps that own the data
register, from ``AppConfig.ready()``, how to validate a key (an unknown coin is an error the
client can read) and how to build a fresh snapshot (so a subscriber gets the current state
even before anything was published). ``streaming`` knows no domain: it only calls them.

Private families (``notifications``) are per user: the client says ``notifications`` and the
server maps it to ``notifications:<user id>``; the client never names another user's channel.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SLUG = r"[a-z0-9][a-z0-9._-]{0,63}"
INTERVALS = ("1m", "5m", "1h", "4h", "1d")

Snapshot = Callable[[str], list[dict[str, Any]]]  # internal channel name -> items
Validator = Callable[[str], str | None]  # internal channel name -> error message or None
# currency code -> ``convert.Conversion`` (raises ChannelError("unknown_currency", ...))
CurrencyLoader = Callable[[str], Any]


class ChannelError(ValueError):
    """A channel name the client may not use; ``code`` is sent in the error message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Family:
    name: str
    pattern: re.Pattern[str]
    example: str
    key: str  # the item field that identifies an item (merging, snapshots)
    private: bool = False
    coalesce: bool = True  # latest value per key wins for a slow client


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("quotes", re.compile(rf"^quotes:(\*|{SLUG})$"), "quotes:bitcoin or quotes:*", "id"),
        Family(
            "candles",
            re.compile(rf"^candles:({SLUG}):({'|'.join(INTERVALS)})$"),
            "candles:bitcoin:1h",
            "time",
        ),
        Family("forecasts", re.compile(rf"^forecasts:({SLUG})$"), "forecasts:bitcoin", "model"),
        Family("news", re.compile(rf"^news(:{SLUG})?$"), "news or news:bitcoin", "id"),
        Family(
            "notifications",
            re.compile(r"^notifications(:\d{1,20})?$"),
            "notifications",
            "id",
            private=True,
            coalesce=False,
        ),
    )
}


@dataclass(frozen=True)
class Channel:
    """A resolved subscription: what the client calls it and what the server publishes on."""

    public: str
    internal: str
    family: Family

    @property
    def group(self) -> str:
        """Channel-layer group name (ASCII letters, digits, ``._-`` only, < 100 chars)."""
        return group_name(self.internal)


_snapshots: dict[str, Snapshot] = {}
_validators: dict[str, Validator] = {}
_currencies: dict[str, CurrencyLoader] = {}


def provider_register(
    family: str,
    *,
    snapshot: Snapshot | None = None,
    validate: Validator | None = None,
    currency: CurrencyLoader | None = None,
) -> None:
    """Called by the app owning ``family`` (e.g. markets for ``quotes``) from ``ready()``.

    ``currency``: how to convert the family's USD items into another quote currency (see
    ``convert.py``); families registering none are sent as published whatever ``vs`` says.
    """
    if family not in FAMILIES:
        raise ValueError(f"unknown stream family {family!r}")
    if snapshot is not None:
        _snapshots[family] = snapshot
    if validate is not None:
        _validators[family] = validate
    if currency is not None:
        _currencies[family] = currency


def currency_loader(family: str) -> CurrencyLoader | None:
    return _currencies.get(family)


def currency_loaders() -> list[str]:
    """The families that convert, in registration order."""
    return list(_currencies)


def resolve(public: Any, *, user_id: int | None) -> Channel:
    """The client's channel name -> ``Channel``, or ``ChannelError`` saying what is wrong.

    Pattern checks only (no I/O); ``validate()`` asks the owning app about the key.
    """
    if not isinstance(public, str) or not public or len(public) > 100:
        raise ChannelError("bad_channel", "a channel is a non-empty string of at most 100 chars")
    name = public.strip()
    family = FAMILIES.get(name.split(":", 1)[0])
    if family is None:
        known = ", ".join(f.example for f in FAMILIES.values())
        raise ChannelError("unknown_channel", f"unknown channel {name!r}; channels: {known}")
    if family.private:
        if name != family.name:
            raise ChannelError(
                "bad_channel", f"subscribe to {family.name!r}: it is always your own channel"
            )
        if user_id is None:
            raise ChannelError(
                "auth_required",
                f"{family.name!r} needs a signed-in connection (a ticket from "
                "POST /api/v1/auth/ws-ticket, or the browser session)",
            )
        return Channel(public=name, internal=f"{family.name}:{user_id}", family=family)
    if not family.pattern.match(name):
        raise ChannelError("bad_channel", f"bad channel {name!r}; expected {family.example}")
    return Channel(public=name, internal=name, family=family)


def validate(channel: Channel) -> str | None:
    """Ask the owning app whether the key exists (synchronous: may query the database)."""
    check = _validators.get(channel.family.name)
    return check(channel.internal) if check else None


def fresh_snapshot(channel: Channel) -> list[dict[str, Any]] | None:
    """The owning app's current state of the channel, or None when it registered none."""
    build = _snapshots.get(channel.family.name)
    return build(channel.internal) if build else None


def group_name(internal: str) -> str:
    """Channel-layer group of an internal channel name."""
    return "stream." + internal.replace(":", ".").replace("*", "_all")
