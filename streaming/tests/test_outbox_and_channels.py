"""The per-connection outbox and channel-name rules, without a socket."""

from __future__ import annotations

import pytest

from streaming.services import ChannelError, Outbox, resolve
from streaming.services.channels import group_name


def update(channel: str, seq: int, *items: dict, key: str = "id") -> dict:
    return {
        "type": "update",
        "channel": channel,
        "seq": seq,
        "from_seq": seq,
        "key": key,
        "ts": f"t{seq}",
        "data": list(items),
    }


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_control_frames_go_first_and_keep_their_order():
    box = Outbox()
    box.put_update(update("quotes:*", 1, {"id": "bitcoin", "price": 1}))
    box.put_control({"type": "snapshot", "n": 1})
    box.put_control({"type": "error", "n": 2})
    assert [box.pop()["type"] for _ in range(3)] == ["snapshot", "error", "update"]
    assert box.pop() is None


def test_pending_updates_coalesce_latest_value_wins_and_span_their_seqs():
    box = Outbox()
    box.put_update(
        update("quotes:*", 5, {"id": "bitcoin", "price": 1}, {"id": "ethereum", "price": 2})
    )
    box.put_update(update("quotes:*", 6, {"id": "bitcoin", "price": 3}))
    box.put_update(update("quotes:*", 7, {"id": "solana", "price": 4}))
    frame = box.pop()
    assert (frame["from_seq"], frame["seq"], frame["ts"]) == (5, 7, "t7")
    assert {i["id"]: i["price"] for i in frame["data"]} == {
        "bitcoin": 3,
        "ethereum": 2,
        "solana": 4,
    }
    assert box.coalesced == 2
    assert box.pop() is None


def test_memory_is_bounded_by_channels_and_keys_whatever_the_publish_rate():
    box = Outbox(max_items=10_000)
    for seq in range(1, 20_001):
        box.put_update(update(f"quotes:{seq % 7}", seq, {"id": f"c{seq % 50}", "price": seq}))
    assert len(box) == 7
    assert box.items_pending() <= 7 * 50
    assert not box.overflowed


def test_a_client_behind_for_too_long_is_overloaded():
    clock = Clock()
    box = Outbox(slow_after=10, clock=clock)
    box.put_update(update("quotes:*", 1, {"id": "bitcoin"}))
    clock.now = 9.9
    assert not box.overloaded()
    clock.now = 10.1
    assert box.overloaded()
    box.pop()
    assert not box.overloaded()  # it caught up


def test_too_many_distinct_items_pending_is_overload():
    box = Outbox(max_items=100)
    box.put_update(update("notifications:1", 1, *({"id": i} for i in range(101))))
    assert box.overloaded()


def test_dropping_a_channel_forgets_its_pending_update():
    box = Outbox()
    box.put_update(update("quotes:bitcoin", 1, {"id": "bitcoin"}))
    box.drop_channel("quotes:bitcoin")
    assert box.pop() is None


@pytest.mark.parametrize(
    ("name", "internal"),
    [
        ("quotes:*", "quotes:*"),
        ("quotes:bitcoin", "quotes:bitcoin"),
        ("candles:bitcoin:1h", "candles:bitcoin:1h"),
        ("forecasts:ethereum", "forecasts:ethereum"),
        ("news", "news"),
        ("news:bitcoin", "news:bitcoin"),
    ],
)
def test_public_channels_resolve_to_themselves(name, internal):
    assert resolve(name, user_id=None).internal == internal


def test_notifications_map_to_the_users_own_channel_and_need_a_user():
    assert resolve("notifications", user_id=42).internal == "notifications:42"
    with pytest.raises(ChannelError) as exc:
        resolve("notifications", user_id=None)
    assert exc.value.code == "auth_required"
    with pytest.raises(ChannelError) as exc:
        resolve("notifications:7", user_id=42)  # never another user's channel
    assert exc.value.code == "bad_channel"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("weather:paris", "unknown_channel"),
        ("quotes:", "bad_channel"),
        ("quotes:BTC USD", "bad_channel"),
        ("candles:bitcoin:7m", "bad_channel"),
        ("", "bad_channel"),
        (42, "bad_channel"),
        ("q" * 200, "bad_channel"),
    ],
)
def test_bad_channel_names_are_refused_with_a_reason(name, code):
    with pytest.raises(ChannelError) as exc:
        resolve(name, user_id=None)
    assert exc.value.code == code and exc.value.message


def test_group_names_are_valid_channel_layer_groups():
    import re

    for name in ("quotes:*", "candles:bitcoin:1h", "notifications:12", "news:usd-coin"):
        assert re.fullmatch(r"[a-zA-Z0-9._-]{1,99}", group_name(name))
    assert group_name("quotes:*") != group_name("quotes:all")


def test_updates_of_shared_channels_are_encoded_once_and_private_ones_never_shared():
    import json

    from streaming.services.outbox import _ENCODED, encode

    frame = update("quotes:*", 41, {"id": "bitcoin", "price": 1.0})
    first = encode(frame)
    assert json.loads(first) == frame
    assert encode(dict(frame)) is first  # the same text object: serialised once
    alice = update("notifications", 7, {"id": 1, "title": "alice's alert"})
    bob = update("notifications", 7, {"id": 2, "title": "bob's alert"})
    assert json.loads(encode(alice))["data"][0]["title"] == "alice's alert"
    assert json.loads(encode(bob))["data"][0]["title"] == "bob's alert"
    assert not any(key[0] == "notifications" for key in _ENCODED)
