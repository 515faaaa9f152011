"""core.locks: one holder at a time across processes, in both modes; never a memory fallback."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from core import locks


@pytest.fixture(params=["db", "redis"])
def backend(request, settings, db):  # type: ignore[no-untyped-def]
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("needs REDIS_URL")
        locks._redis_client(settings.REDIS_URL).delete(*[f"cc:lock:{n}" for n in ("a", "b")])
    settings.CORE_LOCK_BACKEND = request.param
    return request.param


def test_second_acquire_fails_until_release(backend):  # type: ignore[no-untyped-def]
    first = locks.acquire("a", ttl=30)
    assert first is not None and first.backend == backend
    assert locks.acquire("a", ttl=30) is None
    assert locks.is_held("a")
    assert locks.acquire("b", ttl=30) is not None  # other names are independent
    first.release()
    assert not locks.is_held("a")
    again = locks.acquire("a", ttl=30)
    assert again is not None
    again.release()


def test_expired_lease_can_be_taken_over(backend):  # type: ignore[no-untyped-def]
    stale = locks.acquire("a", ttl=0.2)
    assert stale is not None
    time.sleep(0.35)
    fresh = locks.acquire("a", ttl=30)
    assert fresh is not None
    stale.release()  # the old holder's release must not free the new holder's lease
    assert locks.is_held("a")
    fresh.release()


def test_extend_keeps_the_lease(backend):  # type: ignore[no-untyped-def]
    lease = locks.acquire("a", ttl=0.3)
    assert lease.extend(30)
    time.sleep(0.4)
    assert locks.acquire("a", ttl=30) is None
    lease.release()


def test_held_context_manager_raises_when_taken(backend):  # type: ignore[no-untyped-def]
    with locks.held("a", ttl=30), pytest.raises(locks.LockHeld):  # noqa: SIM117
        with locks.held("a", ttl=30):
            pass
    assert not locks.is_held("a")


def test_redis_down_raises_instead_of_running_unlocked(settings):  # type: ignore[no-untyped-def]
    settings.CORE_LOCK_BACKEND = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    locks._redis_client.cache_clear()
    with pytest.raises(locks.LockUnavailable):
        locks.acquire("a", ttl=30)
    locks._redis_client.cache_clear()


def test_invalid_backend_setting_is_refused(settings):  # type: ignore[no-untyped-def]
    settings.CORE_LOCK_BACKEND = "memory"
    with pytest.raises(ValueError, match="CORE_LOCK_BACKEND"):
        locks.acquire("a", ttl=30)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["db", "redis"])
def test_concurrent_acquirers_on_separate_connections_get_exactly_one_lease(settings, mode):  # type: ignore[no-untyped-def]
    """Threads hold their own database/Redis connections: the cross-process case."""
    if mode == "redis" and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    if mode == "db" and connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("the in-memory SQLite test database locks whole tables across threads")
    settings.CORE_LOCK_BACKEND = mode
    if mode == "redis":
        locks._redis_client(settings.REDIS_URL).delete("cc:lock:race-db")
    winners: list[locks.Lease] = []
    errors: list[Exception] = []
    barrier = threading.Barrier(6)

    def contend() -> None:
        from django.db import connections

        try:
            barrier.wait()
            lease = locks.acquire("race-db", ttl=30)
            if lease is not None:
                winners.append(lease)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(winners) == 1
    winners[0].release()


_CHILD = """
import os, sys, django
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
django.setup()
from core import locks
lease = locks.acquire(sys.argv[1], ttl=30)
print("acquired" if lease else "refused")
if lease:
    lease.release()
"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["db", "redis"])
def test_another_process_is_refused_while_the_lease_is_held(settings, mode):  # type: ignore[no-untyped-def]
    """A real second Python process (its own connections) cannot take a held lease."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    if mode == "redis" and not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    if mode == "db" and connection.vendor != "postgresql":
        pytest.skip("the SQLite test database is in memory: no second process can open it")
    settings.CORE_LOCK_BACKEND = mode
    env = {**os.environ, "CORE_LOCK_BACKEND": mode, "DATABASE_POOL": "false"}
    if mode == "db":
        db = connection.settings_dict
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    root = Path(__file__).resolve().parents[2]

    def child() -> str:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, "xproc"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    lease = locks.acquire("xproc", ttl=30)
    assert lease is not None
    try:
        assert child() == "refused"  # (one child only: a Django start-up costs seconds here)
    finally:
        lease.release()
    assert not locks.is_held("xproc")
