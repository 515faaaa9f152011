"""What the middleware stack costs: full stack vs the same bytes with no middleware at all.

One server process per server type serves both (see ``bench/_bare_app.py``): the project's
``/api/v1/prices?ids=bitcoin`` (cached, L1 hit) and ``/health/quick`` through the full
stack, and ``/bare/*`` returning the same bytes from a Django handler with no middleware.
Under gunicorn with 1 sync worker (``gunicorn-sync``: the production REST server's worker
class, a new connection per request as behind nginx), gunicorn with 1 gthread worker and 4
threads on keep-alive connections (``gunicorn``: the stack's cost with no connection set-up
around it) and daphne (the embedded ``make run``). A closed-loop asyncio client
(``bench/_loadgen.py``) alternates the endpoints in short phases over several rounds, so noise
from other processes on this shared machine hits all of them alike; it is calibrated on a
static server first and reports its own CPU use. Goal: full stack >= 0.5x the bare view on
every server.

Run: ``.venv/bin/python bench/stack_overhead.py [--seconds 1.5 --rounds 3 --clients 8]
[--servers daphne] [--bare-handler django|inline]``. The full stack under ASGI runs through
``core.asgi`` (as ``config.asgi``); ``--bare-handler inline`` gives the baseline the same
handler so only the middleware differs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _loadgen import Stats, calibrate, closed_loop, cpu_seconds, fetch, free_port, get, wait_ready

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
PY = str(BIN / "python")
GOAL = 0.5

SEED = """
import django; django.setup()
from datetime import UTC, datetime
from markets import services
from markets.clients.known_assets import KNOWN_ASSETS
from markets.contracts import QuoteBatch, QuoteData
now = datetime.now(UTC)
quotes = tuple(
    QuoteData(asset=a, price=100.0 + i, source="replay", as_of=now, fetched_at=now,
              market_cap=1e9, volume_24h=1e8, change_24h=1.0)
    for i, a in enumerate(KNOWN_ASSETS.values())
)
result = services.quotes_store(batch=QuoteBatch(quotes=quotes, source="replay"))
print(result.stored, "quotes seeded")
"""

ENDPOINTS = {  # name -> (full-stack path, bare body name)
    "prices": ("/api/v1/prices?ids=bitcoin", "prices"),
    "health/quick": ("/health/quick", "quick"),
}


def bench_env(tmp: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._bare_settings",
        "CRYPTOCAST_VAR_DIR": str(tmp),
        "SQLITE_PATH": str(tmp / "bench.sqlite3"),
        "PROVIDER_BUDGET_SQLITE_PATH": "",
        "BENCH_BODY_DIR": str(tmp),
        "LOG_FORMAT": "json",  # as in production: one JSON line per request
        "PYTHONPATH": str(ROOT),
    }


def prepare(env: dict[str, str]) -> None:
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([PY, "-c", SEED], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def server_command(kind: str, port: int) -> list[str]:
    if kind == "gunicorn-sync":
        return [
            str(BIN / "gunicorn"), "bench._bare_app:wsgi", "-b", f"127.0.0.1:{port}",
            "-w", "1", "-k", "sync", "--log-level", "warning",
        ]  # fmt: skip
    if kind == "gunicorn":
        return [
            str(BIN / "gunicorn"), "bench._bare_app:wsgi", "-b", f"127.0.0.1:{port}",
            "-w", "1", "-k", "gthread", "--threads", "4", "--log-level", "warning",
        ]  # fmt: skip
    if kind == "daphne":
        return [
            str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port),
            "--access-log", os.devnull, "bench._bare_app:asgi",
        ]  # fmt: skip
    if kind == "uvicorn":
        return [
            str(BIN / "uvicorn"), "bench._bare_app:asgi", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log", "--lifespan", "off", "--log-level", "warning",
        ]  # fmt: skip
    raise SystemExit(f"unknown server {kind}")


async def run_server(kind: str, env: dict[str, str], tmp: Path, args: argparse.Namespace) -> dict:
    port = free_port()
    log = open(tmp / f"{kind}.log", "wb")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(server_command(kind, port), cwd=ROOT, env=env, stdout=log, stderr=log)
    mode = "sync" if kind.startswith("gunicorn") else "async"
    try:
        await wait_ready(port, "/health/quick", proc=proc)
        paths: dict[str, str] = {}
        for name, (full, body_name) in ENDPOINTS.items():
            status, _, body = await fetch(port, full)
            if status != 200:
                raise SystemExit(f"{kind}: {full} answered {status}: {body[:200]!r}")
            (tmp / body_name).write_bytes(body)
            bare = f"/bare/{mode}/{body_name}"
            status, _, bare_body = await fetch(port, bare)
            assert status == 200 and bare_body == body, f"{bare} must return the same bytes"
            paths[f"{name} (full stack)"] = full
            paths[f"{name} (no middleware)"] = bare
        names = list(paths)
        for name in names:  # warm every path
            await closed_loop(
                port, pick=lambda i, p=paths[name]: ("warm", get(p)), clients=2, seconds=0.3
            )
        totals: dict[str, Stats] = {n: Stats() for n in names}
        walls = dict.fromkeys(names, 0.0)
        client_cpu = wall_sum = server_cpu = 0.0
        for rnd in range(args.rounds):
            order = names[rnd % len(names) :] + names[: rnd % len(names)]
            for name in order:
                cpu0 = cpu_seconds(proc.pid)
                stats, wall, cpu = await closed_loop(
                    port,
                    pick=lambda i, n=name: (n, get(paths[n])),
                    clients=args.clients,
                    seconds=args.seconds,
                )
                server_cpu += cpu_seconds(proc.pid) - cpu0
                st = stats[name]
                if st.errors:
                    raise SystemExit(f"{kind}: {paths[name]}: {st.errors} errors {st.first_error}")
                totals[name].latencies += st.latencies
                walls[name] += wall
                client_cpu += cpu
                wall_sum += wall
        return {
            "stats": totals,
            "walls": walls,
            "client_cpu": client_cpu / wall_sum,
            "server_cpu": server_cpu / wall_sum,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def report(kind: str, result: dict) -> list[tuple[str, float]]:
    stats, walls = result["stats"], result["walls"]
    print(
        f"-- {kind}: client CPU {result['client_cpu']:.0%} of a core, "
        f"server CPU {result['server_cpu']:.0%}"
    )
    print(f"   {'endpoint':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for name, st in stats.items():
        print(f"   {name:<32}{st.count / walls[name]:9.1f}{st.pct(50):9.2f}{st.pct(99):9.2f}")
    ratios = []
    for name in ENDPOINTS:
        full, bare = f"{name} (full stack)", f"{name} (no middleware)"
        ratio = (stats[full].count / walls[full]) / (stats[bare].count / walls[bare])
        ok = "ok" if ratio >= GOAL else "BELOW GOAL"
        print(f"   ratio {name}: full/no-middleware = {ratio:.2f}x  (goal >= {GOAL}x: {ok})")
        ratios.append((f"{kind} {name}", ratio))
    return ratios


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=1.5, help="per endpoint per round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8, help="concurrent keep-alive connections")
    ap.add_argument("--servers", default="gunicorn-sync,gunicorn,daphne", help="also: uvicorn")
    ap.add_argument(
        "--bare-handler",
        choices=("django", "inline"),
        default="django",
        help="ASGI baseline: Django's stock handler (default) or the project's core.asgi one",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-stack-"))
    env = {**bench_env(tmp), "BENCH_BARE_HANDLER": args.bare_handler}
    print(f"ASGI no-middleware baseline: {args.bare_handler} handler")
    print("mode: embedded (SQLite, locmem); shared 2-core machine: expect noisy numbers")
    prepare(env)
    rate, share = calibrate(clients=args.clients)
    print(
        f"load generator ceiling (static asyncio server, {args.clients} connections): "
        f"{rate:.0f} req/s at {share:.0%} of a core"
    )
    ratios: list[tuple[str, float]] = []
    for kind in args.servers.split(","):
        ratios += report(kind, asyncio.run(run_server(kind, env, tmp, args)))
    failed = [n for n, r in ratios if r < GOAL]
    print(f"summary: {len(ratios) - len(failed)}/{len(ratios)} ratios meet the goal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
