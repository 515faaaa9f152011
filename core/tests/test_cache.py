"""core.cache.TwoTierCache, including a Redis that is really unreachable or hanging."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from core.cache import TwoTierCache


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens here any more
    return port


def _redis_at(port: int, timeout: float = 0.2) -> RedisCache:
    return RedisCache(
        f"redis://127.0.0.1:{port}/0",
        {
            "OPTIONS": {
                "socket_timeout": timeout,
                "socket_connect_timeout": timeout,
                "retry_on_timeout": False,
            }
        },
    )


@pytest.fixture
def hanging_server():
    """Accepts connections and never answers: a Redis that hangs rather than refuses."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    conns: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
                conns.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(1)
    for c in conns:
        c.close()
    srv.close()


def _locmem() -> LocMemCache:
    return LocMemCache("tt-test", {})


def test_l1_hit_does_not_touch_l2():
    l2 = _locmem()
    cache = TwoTierCache(backend=l2, l1_ttl=60)
    cache.set("k", b"v", ttl=30)
    l2.clear()
    read = cache.get("k")
    assert (read.value, read.tier) == (b"v", "l1")


def test_l2_hit_refills_l1_after_l1_expiry():
    l2 = _locmem()
    cache = TwoTierCache(backend=l2, l1_ttl=0.01)
    cache.set("k", b"v", ttl=30)
    time.sleep(0.02)
    assert cache.get("k").tier == "l2"
    assert cache.get("k").tier == "l1"


def test_shared_l2_serves_another_process_l1_miss():
    l2 = _locmem()
    writer, reader = TwoTierCache(backend=l2), TwoTierCache(backend=l2)
    writer.set("k", {"a": 1}, ttl=30)
    read = reader.get("k")
    assert (read.value, read.tier, read.l2_ok) == ({"a": 1}, "l2", True)


def test_miss_reports_l2_ok():
    read = TwoTierCache(backend=_locmem()).get("nope")
    assert not read.hit and read.l2_ok


def test_refused_redis_is_a_fast_miss_then_skipped_during_backoff():
    cache = TwoTierCache(backend=_redis_at(_closed_port()), l2_backoff=30)
    started = time.perf_counter()
    read = cache.get("k")
    assert not read.hit and read.l2_ok is False
    assert cache.l2_failures == 1
    for _ in range(50):
        assert cache.get("k").l2_ok is False
    assert cache.l2_failures == 1  # L2 was not tried again inside the back-off window
    assert time.perf_counter() - started < 1.0


def test_writes_still_land_in_l1_when_redis_is_down():
    cache = TwoTierCache(backend=_redis_at(_closed_port()), l1_ttl=60)
    assert cache.set("k", b"body", ttl=30) is False
    read = cache.get("k")
    assert (read.value, read.tier) == (b"body", "l1")


def test_expired_l1_copy_is_served_stale_while_redis_is_down():
    cache = TwoTierCache(backend=_redis_at(_closed_port()), l1_ttl=0.01, l1_stale_grace=60)
    cache.set("k", b"old", ttl=30)
    time.sleep(0.02)
    read = cache.get("k")
    assert (read.value, read.tier, read.stale) == (b"old", "l1-stale", True)


def test_hanging_redis_costs_one_socket_timeout_per_backoff_window(hanging_server):
    cache = TwoTierCache(backend=_redis_at(hanging_server, timeout=0.2), l2_backoff=30)
    started = time.perf_counter()
    assert not cache.get("k").hit
    first = time.perf_counter() - started
    assert 0.15 <= first < 1.5  # the socket timeout, not a stall
    started = time.perf_counter()
    for _ in range(100):
        cache.get("k")
    assert time.perf_counter() - started < 0.1  # no per-request stall afterwards


def test_l2_is_retried_after_the_backoff_window():
    cache = TwoTierCache(backend=_redis_at(_closed_port()), l2_backoff=0.05)
    cache.get("k")
    time.sleep(0.06)
    cache.get("k")
    assert cache.l2_failures == 2


def test_l1_is_bounded():
    cache = TwoTierCache(backend=_locmem(), l1_max_entries=3)
    for i in range(5):
        cache.set(f"k{i}", i, ttl=30)
    assert len(cache._l1) == 3


@pytest.mark.redis
def test_real_redis_l2_round_trip(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    a, b = TwoTierCache(prefix="t-a2"), TwoTierCache(prefix="t-a2")
    a.set("k", b"shared", ttl=5)
    assert b.get("k").tier == "l2"
