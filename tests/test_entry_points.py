"""The production entry points boot in a fresh interpreter, as gunicorn and daphne start them.

Tests import ``config.wsgi`` after pytest-django has set Django up, which hid an import-order
bug: ``core.middleware`` imported before ``django.setup()`` killed every gunicorn worker at
boot (``AppRegistryNotReady``). These start the real servers with nothing set up beforehand.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.live import PY, ROOT, free_port, migrated_database, server_env

pytestmark = pytest.mark.django_db(transaction=True)

GUNICORN = str(Path(PY).parent / "gunicorn")


def _wait_live(proc: subprocess.Popen, url: str, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited with {proc.returncode}: {log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health/live", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    pytest.fail(f"server not live in {timeout}s: {log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.smoke
def test_gunicorn_boots_config_wsgi_with_the_deploy_config(tmp_path: Path) -> None:
    env = server_env(tmp_path, keep_redis=False)
    env.pop("GUNICORN_THREADS", None)
    migrated_database(tmp_path / "db.sqlite3", env)
    port = free_port()
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="1")
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [GUNICORN, "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_live(proc, url, log)
            response = httpx.get(f"{url}/health/quick", timeout=5)
            assert response.status_code == 200
            # The deploy default is the sync worker (one request per connection, behind
            # nginx): it closes every connection after its response.
            assert response.headers.get("connection") == "close"
        finally:
            _stop(proc)


@pytest.mark.smoke
@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_entry_point_imports_in_a_fresh_interpreter(module: str) -> None:
    env = server_env(Path("/nonexistent"), keep_redis=False)
    done = subprocess.run(
        [PY, "-c", f"import {module}; print(type({module}.application).__name__)"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
