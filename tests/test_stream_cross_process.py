"""Embedded default across processes: a quote stored by one process reaches a WebSocket client
of a daphne running in another, with the very fields REST serves for that coin.

Always the embedded default (no DATABASE_URL/REDIS_URL in the children's environment): a temp
SQLite file, the database stream log and the web process's relay, so it runs in CI's smoke run
as well as in ``make test``. The writer is a one-shot ``manage.py shell -c``, as a Celery
worker or a ``sync_markets`` would be: nothing in the test process publishes.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.live import PY, ROOT, Daphne, migrated_database, server_env, store_quotes_code

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("xproc")
    env = server_env(tmp, keep_redis=False)
    with django_db_blocker.unblock():
        migrated_database(tmp / "db.sqlite3", env)
    server = Daphne(env, tmp / "daphne.log")
    try:
        server.wait_ready()
        yield {"server": server, "env": env}
    finally:
        server.stop()


def manage_shell(env: dict, code: str) -> None:
    """``manage.py shell -c CODE`` in its own process (the writer)."""
    subprocess.run(
        [PY, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


async def next_frame(ws, kind: str, timeout: float = 20.0) -> dict:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == kind:
                return frame


async def test_a_quote_stored_by_another_process_reaches_a_websocket_subscriber(embedded):
    server: Daphne = embedded["server"]
    async with websockets.connect(f"{server.ws_url}/api/v1/stream/ws") as ws:
        assert (await next_frame(ws, "welcome"))["user"] is None
        await ws.send(json.dumps({"action": "subscribe", "channels": ["quotes:*"]}))
        snap = await next_frame(ws, "snapshot")
        assert snap["channel"] == "quotes:*"
        writer = asyncio.to_thread(
            manage_shell,
            embedded["env"],
            store_quotes_code(("bitcoin", "BTC", 1, 97_123.5), ("ethereum", "ETH", 2, 3_456.5)),
        )
        await writer
        update = await next_frame(ws, "update")
    assert update["channel"] == "quotes:*" and update["seq"] > snap["seq"]
    streamed = {item["id"]: item for item in update["data"]}
    assert streamed["bitcoin"]["price"] == 97_123.5 and streamed["bitcoin"]["source"] == "replay"

    rest = httpx.get(f"{server.url}/api/v1/prices", params={"ids": "bitcoin"}, timeout=10)
    assert rest.status_code == 200
    served = rest.json()["data"]["bitcoin"]
    # one payload shape: same keys, same provenance, same timestamp strings
    assert set(served) == set(streamed["bitcoin"])
    for field in ("as_of", "fetched_at", "source", "price", "symbol", "fallback_reason"):
        assert served[field] == streamed["bitcoin"][field], field
    assert served["as_of"].endswith("Z")
