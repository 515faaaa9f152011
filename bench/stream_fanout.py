"""Stream fan-out: tick-to-client latency and throughput on ONE daphne process.

One daphne (embedded default: database log + relay; with REDIS_URL set: services mode, Redis
log + RedisPubSubChannelLayer), N WebSocket subscribers to ``quotes:*`` opened by a separate
load-generator process (asyncio + websockets), and a publisher process that calls
``streaming.services.publish(channel="quotes", fanout=True)`` once a second with a quote for
each of 50 coins (the way the tick job publishes a stored batch), every item stamped with
``sent_at``. Prints p50/p95/p99 tick-to-client latency, frames/s and items/s delivered, server
RSS per idle connection, the generator's CPU (to show it is not the bottleneck), then the same
for SSE. Goal printed against: p99 <= 500 ms at 1,000 WebSocket subscribers.

Run: ``.venv/bin/python bench/stream_fanout.py [--ws 1000 --sse 200 --seconds 30]``.
Prints, never asserts. Traffic goes to 127.0.0.1 only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DAPHNE = str(ROOT / ".venv" / "bin" / "daphne")
COINS = 50
GOAL_P99_MS = 500.0
APP = ["config.asgi:application"]


# --- the load generator (a separate process: `stream_fanout.py gen ...`) ---------------------
def _sent_at(text: str) -> float | None:
    """``sent_at`` of an update frame without parsing 20 KB of JSON per frame."""
    if not text.startswith('{"type":"update"'):
        return None
    i = text.find('"sent_at":')
    if i < 0:
        return None
    j = i + 10
    k = j
    while k < len(text) and text[k] in "0123456789.eE+-":
        k += 1
    return float(text[j:k])


async def _gen(kind: str, url: str, n: int, seconds: float) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    ready = 0
    go = asyncio.Event()
    stop_at = [0.0]
    lat: list[float] = []
    frames = [0]
    items = [0]
    errors = [0]
    all_ready = asyncio.Event()
    sem = asyncio.Semaphore(50)

    def record(text: str) -> None:
        sent = _sent_at(text)
        if sent is None or not go.is_set() or time.time() > stop_at[0]:
            return
        lat.append(time.time() - sent)
        frames[0] += 1
        items[0] += text.count('"sent_at":')

    async def ws_client() -> None:
        nonlocal ready
        import websockets

        try:
            async with sem:
                ws = await websockets.connect(
                    f"{url}/api/v1/stream/ws",
                    max_size=None,
                    compression=None,
                    ping_interval=None,
                    open_timeout=60,
                )
                await ws.send(json.dumps({"action": "subscribe", "channels": ["quotes:*"]}))
                while '"type":"snapshot"' not in (await ws.recv())[:40]:
                    pass
            ready += 1
            if ready == n:
                all_ready.set()
            async with ws:
                async for text in ws:
                    record(text if isinstance(text, str) else text.decode())
        except Exception:
            errors[0] += 1
            if ready + errors[0] == n:
                all_ready.set()

    async def sse_client() -> None:
        nonlocal ready
        import httpx

        try:
            client = httpx.AsyncClient(timeout=httpx.Timeout(60.0))
            params = {"channels": "quotes:*"}
            async with client, client.stream("GET", f"{url}/api/v1/stream/sse", params=params) as r:
                counted = False
                async for line in r.aiter_lines():
                    if not counted and line.startswith("event: snapshot"):
                        counted = True
                        ready += 1
                        if ready == n:
                            all_ready.set()
                    elif line.startswith("data: "):
                        record(line[6:])
        except Exception:
            errors[0] += 1
            if ready + errors[0] == n:
                all_ready.set()

    make = ws_client if kind == "ws" else sse_client
    t0 = time.monotonic()
    tasks = [asyncio.create_task(make()) for _ in range(n)]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_ready.wait(), timeout=120)
    print(json.dumps({"ready": ready, "errors": errors[0], "connect_s": time.monotonic() - t0}))
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # "go"
    cpu0, wall0 = time.process_time(), time.monotonic()
    stop_at[0] = time.time() + seconds
    go.set()
    await asyncio.sleep(seconds + 1.0)
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
    lat.sort()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    print(
        json.dumps(
            {
                "frames": frames[0],
                "items": items[0],
                "seconds": seconds,
                "p50": pct(0.50),
                "p95": pct(0.95),
                "p99": pct(0.99),
                "max": lat[-1] * 1000 if lat else float("nan"),
                "cpu": cpu,
                "errors": errors[0],
            }
        )
    )
    sys.stdout.flush()
    for t in tasks:
        t.cancel()


# --- the publisher (a separate Django process: `stream_fanout.py pub ...`) --------------------
def _pub(ticks: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from streaming.services import publish

    print("ready", flush=True)
    durations = []
    start = time.time()
    for t in range(ticks):
        now = time.time()
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + "Z"
        items = [
            {
                "id": f"coin-{i:02d}",
                "symbol": f"C{i:02d}",
                "name": f"Coin {i}",
                "rank": i + 1,
                "price": 100.0 + i + t * 0.01,
                "market_cap": 1e9,
                "volume_24h": 1e7,
                "change_1h": 0.1,
                "change_24h": 1.2,
                "change_7d": -3.4,
                "change_30d": 5.6,
                "high_24h": 110.0,
                "low_24h": 90.0,
                "source": "replay",
                "as_of": iso,
                "fetched_at": iso,
                "stale": False,
                "fallback_reason": "",
                "sent_at": now,
            }
            for i in range(COINS)
        ]
        publish(channel="quotes", items=items, fanout=True)
        durations.append(time.time() - now)
        time.sleep(max(0.0, start + t + 1 - time.time()))
    durations.sort()
    print(json.dumps({"publish_p50_ms": durations[len(durations) // 2] * 1000}))


# --- the orchestrator --------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _phase(kind: str, n: int, seconds: float, server, env, url: str) -> dict:  # type: ignore[no-untyped-def]
    rss0 = _rss_kb(server.pid)
    gen = subprocess.Popen(
        [PY, __file__, "gen", kind, url, str(n), str(seconds)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert gen.stdin and gen.stdout
    hello = json.loads(gen.stdout.readline())
    time.sleep(1.0)
    rss1 = _rss_kb(server.pid)
    pub = subprocess.Popen(
        [PY, __file__, "pub", str(int(seconds) + 2)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert pub.stdout
    while pub.stdout.readline().strip() != "ready":  # Django is up: ticks start now
        pass
    cpu0, wall0 = _cpu_s(server.pid), time.monotonic()
    gen.stdin.write("go\n")
    gen.stdin.flush()
    result = json.loads(gen.stdout.readline())
    server_cpu = (_cpu_s(server.pid) - cpu0) / (time.monotonic() - wall0)
    gen.terminate()
    gen.wait(timeout=10)
    pub_out = pub.communicate(timeout=60)[0].strip().splitlines()
    result.update(hello)
    result.update(json.loads(pub_out[-1]) if pub_out else {})
    result.update(rss0=rss0, rss1=rss1, server_cpu=server_cpu, n=n)
    return result


def _report(kind: str, r: dict) -> None:
    per_conn = (r["rss1"] - r["rss0"]) / max(1, r["ready"])
    # RSS also moves with the allocator returning the previous round's memory: a growth
    # below zero says "too small to see", not "negative memory"
    per_conn_text = f"{per_conn:.1f} KiB" if per_conn > 0 else "below RSS noise"
    print(
        f"{kind}: {r['ready']}/{r['n']} subscribers ready in {r['connect_s']:.1f}s "
        f"({r['errors']} failed); memory per idle connection {per_conn_text} "
        f"(server RSS {r['rss0'] / 1024:.0f} -> {r['rss1'] / 1024:.0f} MiB)"
    )
    print(
        f"{kind}: tick-to-client latency p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, "
        f"p99 {r['p99']:.0f} ms, max {r['max']:.0f} ms over {r['seconds']:.0f}s"
    )
    print(
        f"{kind}: delivered {r['frames'] / r['seconds']:.0f} frames/s, "
        f"{r['items'] / r['seconds']:.0f} quote items/s; "
        f"server CPU {r['server_cpu']:.0%} of a core, "
        f"load generator CPU {r['cpu']:.0%} of a core, publish() p50 "
        f"{r.get('publish_p50_ms', float('nan')):.1f} ms per tick (51 channels)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", type=int, default=1000)
    ap.add_argument("--sse", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--sse-seconds", type=float, default=15.0)
    args = ap.parse_args()
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    tmp = Path(tempfile.mkdtemp(prefix="stream-fanout-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SQLITE_PATH=str(tmp / "db.sqlite3"),
        CRYPTOCAST_VAR_DIR=str(tmp / "var"),
        MARKETS_TICK_SECONDS="0",
        STREAM_IDLE_TIMEOUT_SECONDS="600",
        STREAM_MAX_PENDING_ITEMS="100000",
    )
    mode = (
        "services (Redis log + RedisPubSubChannelLayer)"
        if env.get("REDIS_URL")
        else (
            "embedded default (database log + relay, "
            f"poll {env.get('STREAM_RELAY_POLL_SECONDS', '0.2')} s)"
        )
    )
    print(f"mode: {mode}; {COINS} coins ticking at 1/s, one batch per tick (fanout)")
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    port = _free_port()
    url = f"127.0.0.1:{port}"
    log = (tmp / "daphne.log").open("wb")
    server = subprocess.Popen(
        [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "--access-log", "/dev/null", *APP],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{url}/health/live", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        if args.ws:
            r = _phase("ws", args.ws, args.seconds, server, env, f"ws://{url}")
            _report("ws", r)
            verdict = "meets" if r["p99"] <= GOAL_P99_MS else "MISSES"
            print(f"ws: goal p99 <= {GOAL_P99_MS:.0f} ms at {args.ws} subscribers: {verdict}")
        time.sleep(2.0)
        if args.sse:
            _report("sse", _phase("sse", args.sse, args.sse_seconds, server, env, f"http://{url}"))
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "gen":
        asyncio.run(_gen(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
    elif len(sys.argv) > 1 and sys.argv[1] == "pub":
        _pub(int(sys.argv[2]))
    else:
        main()
