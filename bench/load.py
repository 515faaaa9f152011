"""Load benchmark against the services-mode stack as compose runs it (loopback only).

gunicorn (``deploy/gunicorn.conf.py``) serves REST, daphne serves streams, on PostgreSQL and
Redis from ``DATABASE_URL``/``REDIS_URL`` (use a database of your own: it is migrated and
seeded). 50 closed-loop clients for 60 s over a mix of listing, cached prices, candle history,
forecasts and sign-in, plus one SSE subscriber per 10 clients on
``/api/v1/stream/sse?channels=quotes:*`` while a ticker stores a quote batch every second.
Prints requests/s, errors and p50/p95/p99 per endpoint. Goals: 0 errors; p99 < 250 ms for
cached reads, < 500 ms for the listing. Without DATABASE_URL/REDIS_URL it says so and skips.

gunicorn's sync workers (the deploy default) close every connection after its response, so
each client connects once per request, as nginx does upstream (no upstream keep-alive).

Each client has its own address, as behind compose's proxy: ``NUM_PROXIES=1`` (as compose
sets it) and an ``X-Forwarded-For`` per client. The throttles stay on, with rates raised so
nobody is refused (a client here sends ~15 requests/s, more than ``THROTTLE_ANON`` allows a
person): the point is the stack's speed, limiter included. (Sharing one address, as the
loopback does, gave every request one sliding-window log of ~40,000 timestamps to load and
store.) The machine is shared: expect noise, and compare only numbers printed by one run.

Run: ``DATABASE_URL=postgres://... REDIS_URL=redis://.../N .venv/bin/python bench/load.py
[--clients 50 --seconds 60]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import (
    Connection,
    HttpError,
    Stats,
    closed_loop,
    cpu_seconds,
    free_port,
    get,
    post_json,
    table,
    wait_ready,
)

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PY = str(BIN / "python")
EMAIL, PASSWORD = "load-bench@example.com", "load-bench-password-0123"
SSE_PATH = "/api/v1/stream/sse?channels=quotes:*"

SEED = f"""
import django; django.setup()
from datetime import UTC, datetime, timedelta
from django.contrib.auth import get_user_model
from markets import services
from markets.clients.known_assets import KNOWN_ASSETS
from markets.contracts import QuoteBatch, QuoteData
from markets.models import Asset, Candle
now = datetime.now(UTC)
services.quotes_store(batch=QuoteBatch(source="replay", quotes=tuple(
    QuoteData(asset=a, price=100.0 + i, source="replay", as_of=now, fetched_at=now,
              market_cap=1e9 - i, volume_24h=1e8, change_24h=1.0)
    for i, a in enumerate(KNOWN_ASSETS.values()))))
btc = Asset.objects.get(pk="bitcoin")
day = now.replace(hour=0, minute=0, second=0, microsecond=0)
Candle.objects.bulk_create([
    Candle(asset=btc, interval="1d", open_time=day - timedelta(days=d), open=100, high=110,
           low=90, close=105, volume=1000, source="replay") for d in range(1, 366)
], ignore_conflicts=True)
User = get_user_model()
if not User.objects.filter(email="{EMAIL}").exists():
    User.objects.create_user(email="{EMAIL}", password="{PASSWORD}")
print("seeded")
"""

# Stores a fresh quote batch every second (published to the streams on commit).
TICKER = """
import time, django; django.setup()
from datetime import UTC, datetime
from markets import services
from markets.clients.known_assets import KNOWN_ASSETS
from markets.contracts import QuoteBatch, QuoteData
end = time.monotonic() + float(__import__("sys").argv[1])
n = 0
while time.monotonic() < end:
    now = datetime.now(UTC)
    services.quotes_store(batch=QuoteBatch(source="replay", quotes=tuple(
        QuoteData(asset=a, price=100.0 + i + (n % 7) / 10, source="replay", as_of=now,
                  fetched_at=now, market_cap=1e9 - i, volume_24h=1e8, change_24h=1.0)
        for i, a in enumerate(KNOWN_ASSETS.values()))))
    n += 1
    time.sleep(1.0)
"""

# (endpoint, weight, request); cached reads are the prices and the (2 s cached) listing.
MIX = [
    ("listing", 30, get("/api/v1/cryptocurrencies/")),
    ("prices (cached)", 30, get("/api/v1/prices?ids=bitcoin,ethereum")),
    ("history", 15, get("/api/v1/cryptocurrencies/bitcoin/history?interval=1d")),
    ("forecasts", 15, get("/api/v1/forecasts?ids=bitcoin&days=7")),
    ("health/quick", 8, get("/health/quick")),
    ("sign-in", 2, post_json("/api/v1/auth/signin", {"email": EMAIL, "password": PASSWORD})),
]
_SEQUENCE = [(name, req) for name, weight, req in MIX for _ in range(weight)]
# Interleave deterministically (a stride coprime with 100 visits every slot).
_PICKS = [_SEQUENCE[(i * 37) % len(_SEQUENCE)] for i in range(len(_SEQUENCE))]


def _ok(name: str, status: int) -> bool:
    # No forecasts issued in a fresh database is an answer (404 envelope), not a failure.
    return status == 200 or (name == "forecasts" and status == 404)


async def sse_subscriber(port: int, seconds: float, result: dict) -> None:
    conn = Connection(port, timeout=seconds + 10)
    try:
        await conn._connect()
        assert conn.reader is not None and conn.writer is not None
        conn.writer.write(
            f"GET {SSE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Accept: text/event-stream\r\n\r\n".encode()
        )
        head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 10)
        status = int(head.split(b" ", 2)[1])
        if status != 200:
            result["errors"] += 1
            return
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = await asyncio.wait_for(conn.reader.readline(), left)
            except TimeoutError:
                break
            if not line:
                result["errors"] += 1  # the server closed the stream early
                break
            if line.startswith(b"data:"):
                result["events"] += 1
    except (OSError, HttpError, asyncio.IncompleteReadError, TimeoutError):
        result["errors"] += 1
    finally:
        await conn.close()


async def run(args: argparse.Namespace, rest: int, ws: int, procs: dict) -> None:
    for port, name in ((rest, "gunicorn"), (ws, "daphne")):
        await wait_ready(port, "/health/quick", proc=procs[name], seconds=300)
    subscribers = args.clients // 10
    sse_result = {"events": 0, "errors": 0}
    probe_status = await _probe_sse(ws)
    if probe_status != 200:
        print(
            f"note: {SSE_PATH} answered {probe_status} on daphne (stream endpoint not on this "
            "branch yet?): the stream subscribers are skipped"
        )
        subscribers = 0
    for _, _, req in MIX:  # warm every endpoint once
        await Connection(rest).request(req[0], req[1], body=req[2], headers=req[3])

    cpu0 = {n: cpu_seconds(p.pid) for n, p in procs.items()}
    sse_tasks = [
        asyncio.create_task(sse_subscriber(ws, args.seconds, sse_result))
        for _ in range(subscribers)
    ]
    stats, wall, client_cpu = await closed_loop(
        rest,
        # client c's k-th request (i = c + k * clients): every client walks the whole mix
        pick=lambda i: _PICKS[(i // args.clients + (i % args.clients) * 37) % len(_PICKS)],
        clients=args.clients,
        seconds=args.seconds,
        ok=_ok,
        client_headers=lambda c: {"X-Forwarded-For": f"10.0.{c // 250}.{c % 250 + 1}"},
    )
    await asyncio.gather(*sse_tasks)
    cpu = {n: (cpu_seconds(p.pid) - cpu0[n]) / wall for n, p in procs.items()}

    total = sum(st.count for st in stats.values())
    errors = sum(st.errors for st in stats.values())
    print(
        f"-- {args.clients} clients, {wall:.0f} s: {total / wall:.1f} req/s in all, "
        f"{errors} errors; CPU: client {client_cpu / wall:.0%}, gunicorn {cpu['gunicorn']:.0%}, "
        f"daphne {cpu['daphne']:.0%} (of one core; 2 cores shared with other processes)"
    )
    order = [name for name, _, _ in MIX]
    for line in table(((n, stats[n]) for n in order if n in stats), wall):
        print(line)
    for n in order:
        st = stats.get(n, Stats())
        if st.errors:
            print(f"   {n}: statuses {st.statuses} {st.first_error}")
    if subscribers:
        print(
            f"   stream: {subscribers} SSE subscribers, {sse_result['events']} events received, "
            f"{sse_result['errors']} errors"
        )
    checks = [
        ("0 errors", errors == 0),
        ("prices p99 < 250 ms", stats["prices (cached)"].pct(99) < 250),
        ("listing p99 < 500 ms", stats["listing"].pct(99) < 500),
    ]
    print("goals: " + ", ".join(f"{c}: {'ok' if ok else 'MISSED'}" for c, ok in checks))


async def _probe_sse(port: int) -> int:
    conn = Connection(port, timeout=5)
    try:
        await conn._connect()
        assert conn.reader is not None and conn.writer is not None
        conn.writer.write(f"GET {SSE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        head = await asyncio.wait_for(conn.reader.readuntil(b"\r\n\r\n"), 5)
        return int(head.split(b" ", 2)[1])
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
        return 0
    finally:
        await conn.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60.0)
    args = ap.parse_args()
    if not (os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL")):
        print("skipped: the services-mode stack needs DATABASE_URL=postgres://... and REDIS_URL")
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    (tmp / "prom").mkdir()
    rest, ws = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "CRYPTOCAST_VAR_DIR": str(tmp),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp / "prom"),
        "GUNICORN_BIND": f"127.0.0.1:{rest}",
        "LOG_FORMAT": "json",
        "NUM_PROXIES": "1",
        "THROTTLE_ANON": "1000000/min",
        "THROTTLE_USER": "1000000/min",
        "THROTTLE_AUTH": "1000000/min",
        "PYTHONPATH": str(ROOT),
    }
    print(
        "mode: services (gunicorn REST + daphne streams, PostgreSQL, Redis); shared machine: "
        "numbers are noisy"
    )
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([PY, "-c", SEED], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log = open(tmp / "servers.log", "wb")  # noqa: SIM115  (closed below)
    procs = {
        "gunicorn": subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        ),
        "daphne": subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(ws), "--access-log", os.devnull,
             "config.asgi:application"],
            cwd=ROOT, env=env, stdout=log, stderr=log,
        ),
    }  # fmt: skip
    ticker = subprocess.Popen(
        [PY, "-c", TICKER, str(args.seconds + 30)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        asyncio.run(run(args, rest, ws, procs))
    finally:
        for p in (*procs.values(), ticker):
            p.terminate()
        for p in (*procs.values(), ticker):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()
        print(f"server logs: {tmp / 'servers.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
