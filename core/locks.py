"""Named leases that exclude each other across processes (periodic jobs never overlap).

Two backends, chosen by ``CORE_LOCK_BACKEND`` (``auto``: Redis when ``REDIS_URL`` is set,
otherwise the database):

- **redis**: ``SET name token NX PX ttl``; release/extend are compare-and-act Lua scripts so a
  process can only release the lease it holds. Redis down raises ``LockUnavailable``: we never
  fall back to per-process memory (that would let two workers run the same job).
- **db**: a row in ``core_lock`` (primary key = name). Acquire = take over an expired row with
  one conditional UPDATE, else INSERT (the primary key makes exactly one INSERT win).

Every lease expires (``ttl``), so a crashed holder cannot block a job forever.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import redis
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.models import Lock

_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
_EXTEND = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2])
else return 0 end
"""
_PREFIX = "cc:lock:"


class LockHeld(Exception):
    """Somebody else holds the lease."""


class LockUnavailable(Exception):
    """The lock store cannot be reached; the caller must not proceed unlocked."""


def _backend_name() -> str:
    configured = getattr(settings, "CORE_LOCK_BACKEND", "auto")
    if configured == "auto":
        return "redis" if getattr(settings, "REDIS_URL", "") else "db"
    if configured not in {"redis", "db"}:
        raise ValueError(f"CORE_LOCK_BACKEND must be auto, redis or db, not {configured!r}")
    return configured


@lru_cache(maxsize=4)
def _redis_client(url: str):  # type: ignore[no-untyped-def]
    timeout = getattr(settings, "REDIS_SOCKET_TIMEOUT", 0.25)
    return redis.Redis.from_url(
        url, socket_timeout=max(timeout, 0.5), socket_connect_timeout=max(timeout, 0.5)
    )


def _owner_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


@dataclass
class Lease:
    name: str
    token: str
    ttl: float
    backend: str
    released: bool = False

    def extend(self, ttl: float | None = None) -> bool:
        """Push the expiry ``ttl`` seconds from now; False if the lease was lost."""
        ttl = ttl or self.ttl
        if self.backend == "redis":
            try:
                client = _redis_client(settings.REDIS_URL)
                return bool(
                    client.eval(_EXTEND, 1, _PREFIX + self.name, self.token, int(ttl * 1000))
                )
            except Exception as exc:
                raise LockUnavailable(str(exc)) from exc
        expires = timezone.now() + timedelta(seconds=ttl)
        return bool(
            Lock.objects.filter(name=self.name, owner=self.token).update(expires_at=expires)
        )

    def release(self) -> None:
        if self.released:
            return
        self.released = True
        if self.backend == "redis":
            try:
                _redis_client(settings.REDIS_URL).eval(_RELEASE, 1, _PREFIX + self.name, self.token)
            except Exception:  # it expires by itself; nothing else to do
                return
            return
        Lock.objects.filter(name=self.name, owner=self.token).delete()


def acquire(name: str, *, ttl: float = 600.0) -> Lease | None:
    """Take the lease ``name`` for ``ttl`` seconds; None when another owner holds it.

    Raises ``LockUnavailable`` when the lock store is down.
    """
    if ttl <= 0:
        raise ValueError("ttl must be positive")
    token = _owner_token()
    backend = _backend_name()
    if backend == "redis":
        try:
            client = _redis_client(settings.REDIS_URL)
            ok = client.set(_PREFIX + name, token, nx=True, px=int(ttl * 1000))
        except Exception as exc:
            raise LockUnavailable(
                f"redis lock store unreachable: {exc.__class__.__name__}"
            ) from exc
        return Lease(name, token, ttl, backend) if ok else None
    return _acquire_db(name, token, ttl)


def _acquire_db(name: str, token: str, ttl: float) -> Lease | None:
    now = timezone.now()
    expires = now + timedelta(seconds=ttl)
    try:
        # Take over an expired lease (one conditional UPDATE: concurrent takers re-check the
        # WHERE clause after the first commits, so only one wins).
        taken = Lock.objects.filter(name=name, expires_at__lte=now).update(
            owner=token, expires_at=expires, acquired_at=now
        )
        if taken:
            return Lease(name, token, ttl, "db")
        with transaction.atomic():
            Lock.objects.create(name=name, owner=token, expires_at=expires, acquired_at=now)
    except IntegrityError:
        return None
    except Exception as exc:
        raise LockUnavailable(f"database lock store failed: {exc.__class__.__name__}") from exc
    return Lease(name, token, ttl, "db")


@contextmanager
def held(name: str, *, ttl: float = 600.0) -> Iterator[Lease]:
    """``with held("markets:sync"):`` — raises ``LockHeld`` if taken, releases on exit."""
    lease = acquire(name, ttl=ttl)
    if lease is None:
        raise LockHeld(name)
    try:
        yield lease
    finally:
        lease.release()


def is_held(name: str) -> bool:
    if _backend_name() == "redis":
        try:
            return bool(_redis_client(settings.REDIS_URL).exists(_PREFIX + name))
        except Exception as exc:
            raise LockUnavailable(str(exc)) from exc
    return Lock.objects.filter(name=name, expires_at__gt=timezone.now()).exists()
