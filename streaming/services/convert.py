"""Quote currencies on the streams (``vs``): the owning app's conversion, applied per reader.

Every stream message is published once, in USD (the stored currency). A subscriber asks for
another currency with ``?vs=`` on connect or ``"vs"`` in ``subscribe``; frames are converted
as they leave the session, never in the log, so seqs, buffers and resume are the same for
every currency. The app owning a family registers a *loader* (``provider_register(...,
currency=...)``): given a currency it does the I/O once (the rate, or a series of daily
rates for candles) and returns a ``Conversion`` whose ``apply`` is pure. Families without a
loader (news, notifications) carry no amounts and are sent unchanged.

Loaded conversions are shared by every connection of the process for
``STREAM_RATE_REFRESH_SECONDS`` (a thousand EUR subscribers cost one rate lookup), and the
converted items of one message are memoised per conversion (one conversion per message, not
per subscriber); ``Conversion.token`` names the rates used, so the once-per-message encoding
(``outbox.encode``) never mixes two currencies or two rates.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .channels import ChannelError, currency_loader, currency_loaders

USD = "usd"
Items = list[dict[str, Any]]


@dataclass(frozen=True)
class Conversion:
    """USD items -> ``vs`` items. ``token`` is the same for the same rates (cache keys)."""

    vs: str
    token: str
    apply: Callable[[Items], Items]


_lock = threading.Lock()
_loaded: dict[tuple[str, str], tuple[float, Conversion]] = {}
_memo: OrderedDict[tuple[str, int, str, str], Items] = OrderedDict()
_MEMO_MAX = 4096


def normalise(vs: Any) -> str:
    """A client's ``vs`` -> lower-case code; ChannelError for anything but a short string."""
    if vs is None or vs == "":
        return USD
    if not isinstance(vs, str) or len(vs) > 16 or not vs.strip().isalnum():
        raise ChannelError("bad_currency", "vs is a currency code such as usd, eur or btc")
    return vs.strip().lower()


def _refresh_seconds() -> float:
    return float(settings.STREAM_RATE_REFRESH_SECONDS)


def conversion(family: str, vs: str) -> Conversion | None:
    """The shared conversion of ``family`` into ``vs`` (None: USD, or nothing to convert).

    Synchronous (the loader may query the database): call it off the event loop. Raises
    ChannelError(``unknown_currency``) for a currency the loader does not know.
    """
    loader = currency_loader(family)
    if vs == USD or loader is None:
        return None
    now = time.monotonic()
    with _lock:
        hit = _loaded.get((family, vs))
    if hit is not None and now - hit[0] < _refresh_seconds():
        return hit[1]
    loaded = loader(vs)
    with _lock:
        _loaded[(family, vs)] = (now, loaded)
    return loaded


def check_currency(vs: str) -> None:
    """ChannelError when no family can convert into ``vs`` (connect-time validation)."""
    if vs == USD:
        return
    for family in currency_loaders():
        conversion(family, vs)
        return


def expired(loaded_at: float) -> bool:
    return time.monotonic() - loaded_at >= _refresh_seconds()


def convert_items(conv: Conversion, *, channel: str, seq: int, epoch: str, items: Items) -> Items:
    """``items`` of message ``seq`` of ``channel`` through ``conv``, once per conversion."""
    key = (channel, seq, epoch, conv.token)
    with _lock:
        hit = _memo.get(key)
    if hit is not None:
        return hit
    out = conv.apply(items)
    with _lock:
        _memo[key] = out
        if len(_memo) > _MEMO_MAX:
            _memo.popitem(last=False)
    return out


def forget() -> None:
    """Drop loaded conversions and memoised items (tests; new rates stored)."""
    with _lock:
        _loaded.clear()
        _memo.clear()
