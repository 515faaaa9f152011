"""SSE (``GET /api/v1/stream/sse``) against a live daphne on 127.0.0.1.

One server per module, on a temp SQLite file; publishing happens in a second Django process
(as a Celery worker would). With ``REDIS_URL`` set the stream runs in services mode (Redis log,
RedisPubSubChannelLayer); without it on the embedded default (database log + relay).
Sequence numbers are compared relative to what the server says, never absolute, so the tests
do not depend on each other's order.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.live import Daphne, DjangoProcess, metric, migrated_database, server_env
from tests.live import store_quotes_code as quotes

pytestmark = [pytest.mark.django_db]

BUFFER = 5
KEEPALIVE = 0.3
RETRY_MS = 1234
SSE = "/api/v1/stream/sse"


@dataclass
class Live:
    server: Daphne
    shell: DjangoProcess
    prices: dict[str, float] = field(default_factory=dict)

    def publish(self, slug: str, price: float) -> None:
        symbol, rank = {"bitcoin": ("BTC", 1), "ethereum": ("ETH", 2)}[slug]
        self.shell.run(quotes((slug, symbol, rank, price)))


@pytest.fixture(scope="module")
def live(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[Live]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("sse")
    env = server_env(
        tmp,
        keep_redis=True,
        STREAM_SSE_KEEPALIVE_SECONDS=KEEPALIVE,
        STREAM_SSE_RETRY_MS=RETRY_MS,
        STREAM_BUFFER_SIZE=BUFFER,
    )
    with django_db_blocker.unblock():
        migrated_database(tmp / "db.sqlite3", env)
    shell = DjangoProcess(env)
    server = Daphne(env, tmp / "daphne.log")
    try:
        shell.run(quotes(("bitcoin", "BTC", 1, 100_000.0), ("ethereum", "ETH", 2, 3_000.0)))
        server.wait_ready()
        yield Live(server=server, shell=shell)
    finally:
        server.stop()
        shell.stop()


@dataclass
class Event:
    event: str | None = None
    id: str | None = None
    data: Any = None
    retry: int | None = None
    comment: str | None = None


class Stream:
    """An open SSE response read event by event (keep-alives arrive every 0.3 s)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.iter_lines()

    def next(self) -> Event:
        ev = Event()
        for line in self.lines:
            if line == "":
                if ev != Event():
                    return ev
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "":
                ev.comment = value
            elif name == "event":
                ev.event = value
            elif name == "id":
                ev.id = value
            elif name == "data":
                ev.data = json.loads(value)
            elif name == "retry":
                ev.retry = int(value)
        raise AssertionError("the stream ended")

    def until(self, kind: str, timeout: float = 10.0) -> Event:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ev = self.next()
            if ev.event == kind:
                return ev
        raise AssertionError(f"no {kind!r} event within {timeout}s")


@pytest.fixture
def client(live: Live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.server.url, timeout=httpx.Timeout(10.0)) as c:
        yield c


def open_stream(client: httpx.Client, channels: str, **headers: str):  # type: ignore[no-untyped-def]
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    return client.stream("GET", SSE, params={"channels": channels}, headers=hdrs)


def test_the_stream_starts_with_retry_then_a_snapshot_whose_id_is_its_seq(live, client):
    with open_stream(client, "quotes:bitcoin") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["cache-control"].startswith("no-cache")
        s = Stream(r)
        first = s.next()
        assert first.retry == RETRY_MS and first.event is None
        snap = s.until("snapshot")
        assert snap.data["channel"] == "quotes:bitcoin"
        assert snap.id == str(snap.data["seq"])
        assert snap.data["data"][0]["id"] == "bitcoin" and snap.data["data"][0]["source"]


def test_updates_arrive_in_order_with_id_equal_to_seq(live, client):
    with open_stream(client, "quotes:bitcoin") as r:
        s = Stream(r)
        snap = s.until("snapshot")
        base = snap.data["seq"]
        got = []
        for i, price in enumerate((101.0, 102.0, 103.0), start=1):
            live.publish("bitcoin", price)
            ev = s.until("update")
            assert ev.id == str(ev.data["seq"]) == str(base + i)
            assert ev.data["from_seq"] == base + i  # one message per update, nothing skipped
            got.append(ev.data["data"][0]["price"])
        assert got == [101.0, 102.0, 103.0]


def test_keep_alive_comments_flow_while_nothing_is_published(live, client):
    with open_stream(client, "quotes:ethereum") as r:
        s = Stream(r)
        s.until("snapshot")
        started = time.monotonic()
        ev = s.next()
        assert ev.comment == "keep-alive" and ev.event is None
        assert time.monotonic() - started < KEEPALIVE * 10


def test_last_event_id_replays_exactly_what_was_missed(live, client):
    with open_stream(client, "quotes:bitcoin") as r:
        seen = int(Stream(r).until("snapshot").id or 0)
    for price in (201.0, 202.0):  # while the client is away
        live.publish("bitcoin", price)
    with open_stream(client, "quotes:bitcoin", Last_Event_ID=str(seen)) as r:
        s = Stream(r)
        ev = s.until("update")
        # the missed messages, merged into one frame spanning exactly the gap
        assert ev.data["from_seq"] == seen + 1 and ev.data["seq"] == seen + 2
        assert ev.id == str(seen + 2) and ev.data["data"][-1]["price"] == 202.0
        live.publish("bitcoin", 203.0)
        nxt = s.until("update")
        assert nxt.data["from_seq"] == nxt.data["seq"] == seen + 3  # no duplicate, no gap


def test_last_event_id_can_also_come_as_a_query_parameter(live, client):
    with open_stream(client, "quotes:ethereum") as r:
        seen = int(Stream(r).until("snapshot").id or 0)
    live.publish("ethereum", 3_001.0)
    params = {"channels": "quotes:ethereum", "last_event_id": str(seen)}
    with client.stream("GET", SSE, params=params) as r:
        ev = Stream(r).until("update")
        assert ev.data["from_seq"] == seen + 1 and ev.data["data"][0]["price"] == 3_001.0


def test_with_several_channels_the_id_names_each_channels_seq(live, client):
    channels = "quotes:bitcoin,quotes:ethereum"
    with open_stream(client, channels) as r:
        s = Stream(r)
        s.until("snapshot")
        last = s.until("snapshot")
        pos = dict(part.rsplit("=", 1) for part in (last.id or "").split(","))
        assert set(pos) == {"quotes:bitcoin", "quotes:ethereum"}
        assert int(pos[last.data["channel"]]) == last.data["seq"]
    btc, eth = int(pos["quotes:bitcoin"]), int(pos["quotes:ethereum"])
    live.publish("bitcoin", 301.0)
    live.publish("ethereum", 3_301.0)
    with open_stream(client, channels, Last_Event_ID=last.id or "") as r:
        s = Stream(r)
        first, second = s.until("update"), s.until("update")
        frames = {ev.data["channel"]: ev for ev in (first, second)}
        assert frames["quotes:bitcoin"].data["from_seq"] == btc + 1
        assert frames["quotes:ethereum"].data["from_seq"] == eth + 1
        assert frames["quotes:ethereum"].data["data"][0]["price"] == 3_301.0
        # after both, the id says where each channel stands
        assert second.id == f"quotes:bitcoin={btc + 1},quotes:ethereum={eth + 1}"


def test_a_last_event_id_older_than_the_buffer_gets_a_reset_then_a_snapshot(live, client):
    with open_stream(client, "quotes:bitcoin") as r:
        seen = int(Stream(r).until("snapshot").id or 0)
    for i in range(BUFFER + 2):
        live.publish("bitcoin", 400.0 + i)
    with open_stream(client, "quotes:bitcoin", Last_Event_ID=str(seen)) as r:
        s = Stream(r)
        reset = s.next()
        while reset.event is None:
            reset = s.next()
        assert reset.event == "reset"
        assert reset.data["reason"] == "too_old" and reset.data["after_seq"] == seen
        snap = s.until("snapshot")
        assert snap.data["seq"] == reset.data["seq"] == seen + BUFFER + 2
        assert snap.id == str(snap.data["seq"])
        assert snap.data["data"][0]["price"] == 400.0 + BUFFER + 1


@pytest.mark.parametrize(
    ("channels", "code"),
    [("", "required"), ("weather:paris", "unknown_channel"), ("quotes:not-a-coin", None)],
)
def test_bad_channels_are_a_400_in_the_error_envelope_naming_the_field(client, channels, code):
    r = client.get(SSE, params={"channels": channels})
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["type"] == "client_error" and body["status"] == 400 and body["request_id"]
    err = body["errors"][0]
    assert err["attr"] == "channels" and err["detail"]
    if code:
        assert err["code"] == code


def test_notifications_need_a_session_an_anonymous_stream_is_a_401(client):
    r = client.get(SSE, params={"channels": "notifications"})
    assert r.status_code == 401
    err = r.json()["errors"][0]
    assert err["code"] == "auth_required" and err["attr"] == "channels"


def _sse_connections(live: Live) -> float:
    return metric(live.server.url, "cryptocast_stream_connections", 'transport="sse"')


def test_the_server_drops_the_subscription_when_the_client_goes_away(live, client):
    before = _sse_connections(live)
    with open_stream(client, "quotes:bitcoin") as r:
        s = Stream(r)  # keep the reader: dropping it closes the connection
        s.until("snapshot")
        assert _sse_connections(live) == before + 1
        s.next()  # still streaming (a keep-alive)
        assert _sse_connections(live) == before + 1
    deadline = time.monotonic() + 10
    while _sse_connections(live) != before:
        assert time.monotonic() < deadline, "the SSE stream was not cleaned up"
        time.sleep(0.05)
    # and the server still streams to the next client
    with open_stream(client, "quotes:bitcoin") as r:
        assert Stream(r).until("snapshot").data["channel"] == "quotes:bitcoin"
