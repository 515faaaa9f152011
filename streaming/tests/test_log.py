"""The stream log: one behaviour on both backends (database always, Redis when configured)."""

from __future__ import annotations

import os
import threading

import pytest
from django.conf import settings

from streaming.services import log as stream_log

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(params=["database", "redis"])
def log(request, settings):  # type: ignore[no-untyped-def]
    settings.STREAM_BUFFER_SIZE = 5
    if request.param == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("needs a real Redis (REDIS_URL)")
        backend = stream_log.RedisLog(settings.REDIS_URL, timeout=1.0)
        backend.client.flushdb()
        return backend
    return stream_log.DatabaseLog()


def test_seq_is_monotonic_per_channel(log):
    seqs = [log.append("quotes:*", [{"id": "bitcoin", "n": i}], key="id")["seq"] for i in range(3)]
    other = log.append("quotes:bitcoin", [{"id": "bitcoin"}], key="id")["seq"]
    assert seqs == [1, 2, 3] and other == 1
    assert log.head("quotes:*") == 3 and log.head("never:used") == 0


def test_messages_carry_channel_seq_time_key_and_data(log):
    msg = log.append("news", [{"id": 7, "title": "x"}], key="id")
    assert msg["channel"] == "news" and msg["seq"] == 1 and msg["key"] == "id"
    assert msg["data"] == [{"id": 7, "title": "x"}] and msg["ts"].endswith("Z")


def test_since_returns_exactly_what_was_missed(log):
    for i in range(4):
        log.append("c", [{"id": i}], key="id")
    assert [m["seq"] for m in log.since("c", 1)] == [2, 3, 4]
    assert log.since("c", 4) == []


def test_since_is_none_when_the_buffer_no_longer_reaches_back(log):
    for i in range(8):  # buffer keeps 5: seqs 4..8
        log.append("c", [{"id": i}], key="id")
    assert [m["seq"] for m in log.recent("c")] == [4, 5, 6, 7, 8]
    assert log.since("c", 2) is None  # 3 is gone: reset
    assert [m["seq"] for m in log.since("c", 3)] == [4, 5, 6, 7, 8]


def test_since_is_none_when_the_client_is_ahead_of_the_log(log):
    log.append("c", [{"id": 1}], key="id")
    assert log.since("c", 99) is None


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL") and not os.environ.get("REDIS_URL"),
    reason="concurrent writers need PostgreSQL or Redis (SQLite serialises them anyway)",
)
def test_concurrent_publishers_never_share_a_seq(log):
    from django.db import connection

    if isinstance(log, stream_log.DatabaseLog) and connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers")
    settings.STREAM_BUFFER_SIZE = 1000
    seqs: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        from django.db import connections

        for _ in range(20):
            seq = log.append("race", [{"id": 1}], key="id")["seq"]
            with lock:
                seqs.append(seq)
        connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seqs) == list(range(1, 81))


def test_a_batch_numbers_and_trims_each_channel_as_single_appends_would(log):
    log.append("quotes:*", [{"id": "x"}], key="id")
    for round_ in range(7):  # more rounds than the buffer holds (5)
        log.append_many(
            [
                ("quotes:*", [{"id": "bitcoin", "n": round_}, {"id": "ethereum", "n": round_}]),
                ("quotes:bitcoin", [{"id": "bitcoin", "n": round_}]),
                ("quotes:ethereum", [{"id": "ethereum", "n": round_}]),
            ],
            key="id",
        )
    assert (log.head("quotes:*"), log.head("quotes:bitcoin"), log.head("quotes:ethereum")) == (
        8,
        7,
        7,
    )
    kept = log.recent("quotes:*")
    assert [m["seq"] for m in kept] == [4, 5, 6, 7, 8]  # trimmed to the buffer
    assert kept[-1]["data"][1] == {"id": "ethereum", "n": 6}
    assert kept[-1]["channel"] == "quotes:*" and kept[-1]["epoch"] == log.epoch("quotes:*")
    assert log.since("quotes:bitcoin", 5) == log.recent("quotes:bitcoin")[-2:]
    # the same channel twice in one batch: numbered one after the other
    log.append_many([("news", [{"id": 1}]), ("news", [{"id": 2}])], key="id")
    assert [m["data"][0]["id"] for m in log.since("news", 0) or []] == [1, 2]
