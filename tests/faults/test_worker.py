"""A Celery worker SIGKILLed mid-task: the message goes back to the queue (acks_late,
reject_on_worker_lost, the broker's visibility timeout), a second worker re-runs the task, and
the end state is the same as one clean run: the mail sent once (issue 16)."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.live import PY, ROOT

from .conftest import FaultyApp, RedisChild

pytestmark = [pytest.mark.faults, pytest.mark.django_db]


class StalledSmtp:
    """Accepts connections and never greets: a worker sending mail hangs inside the task."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._conns.append(conn)
            self.accepted.set()

    def close(self) -> None:
        for conn in self._conns:
            conn.close()
        self.sock.close()


def _worker(env: dict[str, str], log, **extra: str) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    return subprocess.Popen(
        [
            PY,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-l",
            "info",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**env, **extra},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


@pytest.fixture
def smtp() -> Iterator[StalledSmtp]:
    server = StalledSmtp()
    yield server
    server.close()


def test_a_worker_killed_mid_send_is_replaced_and_the_mail_goes_out_once(
    faulty_app: FaultyApp, healthy_redis: RedisChild, smtp: StalledSmtp, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    email = f"worker-{uuid.uuid4().hex[:8]}@example.com"
    faulty_app.sweep()  # earlier tests' rows are sent: their queued messages are no-ops
    log = (tmp_path / "worker.log").open("wb")
    first = _worker(
        faulty_app.env, log, EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}", EMAIL_TIMEOUT="60"
    )
    second = None
    try:
        response = httpx.post(
            f"{faulty_app.url}/api/v1/auth/signup",
            json={"email": email, "password": "correct-horse-battery-9"},
            timeout=15,
        )
        assert response.status_code == 201
        deadline = time.monotonic() + 90
        while faulty_app.rows(
            "SELECT status FROM accounts_outboundmail WHERE to_email = ?", email
        ) != [("sending",)]:  # claimed, then stuck in the SMTP greeting: mid-task
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.2)
        assert smtp.accepted.wait(10)
        first.kill()
        first.wait(10)
        second = _worker(faulty_app.env, log)  # the file mail backend of the suite
        deadline = time.monotonic() + 90
        while faulty_app.rows(
            "SELECT status FROM accounts_outboundmail WHERE to_email = ?", email
        ) != [("sent",)]:
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(10)
        log.close()
    faulty_app.sweep()  # the safety net finds nothing left to send
    assert len(faulty_app.mails_to(email)) == 1
    [(attempts,)] = faulty_app.rows(
        "SELECT attempts FROM accounts_outboundmail WHERE to_email = ?", email
    )
    assert attempts == 2  # the killed run and the re-run
