"""A live ASGI server for end-to-end stream tests: daphne in a subprocess on 127.0.0.1.

``server_env()`` builds the environment of the server and of every helper process (the same
temp SQLite file, the same var dir, small stream timings); ``Daphne`` starts and stops the
server; ``DjangoProcess`` is a second long-lived Django process that runs snippets of Python on
request (to publish from "another process", as the Celery worker does, without paying a
Django start-up per publish).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").is_dir() else sys.executable
DAPHNE = str(Path(PY).parent / "daphne")
MARK = "@@live-result@@ "
APP = ["config.asgi:application"]

# Runs in the helper process: one JSON request per stdin line, one marked reply per request
# (logging may write to stdout too, so replies carry a marker).
_DRIVER = f"""
import json, os, sys, traceback
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
import django
django.setup()
ns = {{}}
for line in sys.stdin:
    ns.pop("result", None)
    try:
        exec(json.loads(line)["code"], ns)
        out = {{"ok": True, "result": ns.get("result")}}
    except Exception:
        out = {{"ok": False, "error": traceback.format_exc()}}
    sys.stdout.write({MARK!r} + json.dumps(out, default=str) + "\\n")
    sys.stdout.flush()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(tmp: Path, *, keep_redis: bool, **extra: Any) -> dict[str, str]:
    """Environment of the server and its helpers: a temp SQLite database in ``tmp``.

    ``keep_redis``: keep ``REDIS_URL`` when the test run has one (services-mode stream: Redis
    log + RedisPubSubChannelLayer); else the embedded default (database log + relay).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env.pop("DATABASE_URL", None)
    if not keep_redis:
        env.pop("REDIS_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        CRYPTOCAST_VAR_DIR=str(tmp / "var"),
        MARKETS_TICK_SECONDS="0",
        STREAM_RELAY_POLL_SECONDS="0.05",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def migrated_database(target: Path, env: dict[str, str]) -> None:
    """A migrated SQLite file at ``target``.

    On the embedded default the test run's own (migrated, in-memory) SQLite database is
    copied with SQLite's backup API in milliseconds; otherwise ``manage.py migrate`` runs.
    """
    from django.db import connection

    target.parent.mkdir(parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        dest = sqlite3.connect(target)
        try:
            connection.connection.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
        finally:
            dest.close()
        return
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


class Daphne:
    """One daphne process serving ``config.asgi:application`` on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [DAPHNE, "-b", "127.0.0.1", "-p", str(self.port), "--access-log", "/dev/null", *APP],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daphne exited: {self.log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health/live", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"daphne not ready in {timeout}s: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


class DjangoProcess:
    """A second Django process (same env) that runs Python snippets: ``run(code)``.

    A snippet sets ``result`` to hand a JSON-able value back.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            [PY, "-c", _DRIVER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def run(self, code: str) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"code": code}) + "\n")
        self.proc.stdin.flush()
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the helper process died")
            if line.startswith(MARK):
                reply = json.loads(line[len(MARK) :])
                if not reply["ok"]:
                    raise RuntimeError(reply["error"])
                return reply["result"]

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def metric(url: str, name: str, labels: str) -> float:
    """One sample of ``name{labels}`` from the server's /metrics (0 when absent)."""
    text = httpx.get(f"{url}/metrics", timeout=5).text
    prefix = f"{name}{{{labels}}} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


STORE_QUOTES = """
from datetime import UTC, datetime
from markets.contracts import AssetData, QuoteBatch, QuoteData
from markets.services import quotes_store
now = datetime.now(UTC)
quotes_store(batch=QuoteBatch(source="replay", quotes=tuple(
    QuoteData(asset=AssetData(slug=slug, symbol=symbol, name=slug.title(), rank=rank),
              price=price, source="replay", as_of=now, fetched_at=now)
    for slug, symbol, rank, price in {rows!r})))
"""


def store_quotes_code(*rows: tuple[str, str, int, float]) -> str:
    """Snippet that stores quotes (slug, symbol, rank, price) the way a sync does."""
    return STORE_QUOTES.format(rows=list(rows))
