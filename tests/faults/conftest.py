"""Fault injection (issue 16): real child processes the tests break on purpose.

``RedisChild`` is a ``redis-server`` on its own free port that a test SIGSTOPs (stalled),
SIGKILLs (dead) and restarts on the same port; ``faulty_app`` is a daphne serving the app with
that Redis as cache, broker and channel layer, a temp SQLite database and a file mail backend,
so a test can count what was mailed. Every request a test makes has a hard client timeout
above the ceiling it asserts, so a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live import (
    Daphne,
    DjangoProcess,
    free_port,
    migrated_database,
    server_env,
    store_quotes_code,
)

REDIS_SERVER = shutil.which("redis-server")
# What a request may take while Redis is stalled or dead (REDIS_SOCKET_TIMEOUT is 0.25 s:
# a request makes a few Redis calls, each failing fast).
CEILING_SECONDS = 3.0


class RedisChild:
    """A throwaway redis-server on 127.0.0.1:<port>, no persistence."""

    def __init__(self, workdir: Path) -> None:
        assert REDIS_SERVER, "redis-server is not installed"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stall(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)  # a stopped process dies only once continued
        self.proc.kill()
        self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()


class FaultyApp:
    """The daphne server, its Redis child, its SQLite file and its mail folder."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.redis = RedisChild(tmp)
        self.mail_dir = tmp / "mail"
        self.mail_dir.mkdir()
        self.db_path = tmp / "db.sqlite3"
        self.env = server_env(
            tmp,
            keep_redis=False,
            REDIS_URL=self.redis.url,
            EMAIL_URL=f"filemail:///{self.mail_dir}",  # environ drops one leading slash
            THROTTLE_AUTH="10000/min",
            THROTTLE_ANON="10000/min",
            ACCOUNTS_MAIL_LEASE_SECONDS=2,
            CELERY_BROKER_VISIBILITY_TIMEOUT=3,
            MARKET_QUOTE_PROVIDERS="replay",
        )
        self.server: Daphne | None = None
        self.helper: DjangoProcess | None = None

    def start(self) -> None:
        self.server = Daphne(self.env, self.tmp / "daphne.log")
        self.server.wait_ready()
        self.helper = DjangoProcess(self.env)
        self.helper.run(store_quotes_code(("bitcoin", "BTC", 1, 50_000.0)))
        # Warm up with Redis healthy (first-request imports, the Argon2 hasher, the broker
        # pool), so the timings under faults are the steady state's.
        for path, body in (
            (
                "/api/v1/auth/signup",
                {"email": "warm-up@example.com", "password": "x" * 8 + "-9Zq!a"},
            ),
            ("/api/v1/auth/password-reset", {"email": "warm-up@example.com"}),
        ):
            httpx.post(f"{self.url}{path}", json=body, timeout=60)
        for path in ("/health/detailed", "/api/v1/cryptocurrencies/", "/api/v1/prices?ids=bitcoin"):
            httpx.get(f"{self.url}{path}", timeout=60)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as db:
            return db.execute(sql, params).fetchall()

    def mails_to(self, address: str) -> list[Any]:
        found = []
        for path in sorted(self.mail_dir.glob("*.log")):
            for chunk in path.read_bytes().split(b"-" * 79):
                chunk = chunk.strip()
                if not chunk:
                    continue
                message = message_from_bytes(chunk)
                if message["To"] == address:
                    found.append(message)
        return found

    def sweep(self) -> dict[str, int]:
        """The beat's mail sweep, run in a second Django process (as a worker would)."""
        assert self.helper is not None
        return self.helper.run("from accounts import services\nresult = services.mails_sweep()")

    def stop(self) -> None:
        if self.helper is not None:
            self.helper.stop()
        if self.server is not None:
            self.server.stop()
        self.redis.stop()


@pytest.fixture(scope="package")
def faulty_app(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[FaultyApp]:  # type: ignore[no-untyped-def]
    if not REDIS_SERVER:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    app = FaultyApp(tmp_path_factory.mktemp("faults"))
    try:
        with django_db_blocker.unblock():
            migrated_database(app.db_path, app.env)
        app.start()
        yield app
    finally:
        app.stop()


@pytest.fixture
def healthy_redis(faulty_app: FaultyApp) -> Iterator[RedisChild]:
    """Every test starts and ends with its Redis up (a failed test must not leak a stall)."""
    redis = faulty_app.redis
    yield redis
    if redis.proc is None or redis.proc.poll() is not None:
        redis.restart()
    else:
        redis.resume()
