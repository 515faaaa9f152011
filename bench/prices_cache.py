"""Cached ``GET /api/v1/prices`` throughput vs a bare Django view returning the same bytes.

One gunicorn (1 sync worker) serves both: ``/api/v1/prices`` through the project's full
middleware stack and ``/bare/sync/prices`` through a Django handler with *no middleware at all*
(``bench/_bare_app.py``; before issue 17 the baseline sat behind the same middleware, so the
ratio measured the view, not the stack). A sequential client alternates between the two request
by request and prints requests/s and the ratio (goal >= 0.9x; bench/stack_overhead.py measures
the stack under load on gunicorn and daphne). Embedded mode by default (temp SQLite, locmem);
with DATABASE_URL/REDIS_URL set it runs against them.
Run: ``.venv/bin/python bench/prices_cache.py [--seconds 2 --rounds 5]``.
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
IDS = "bitcoin,ethereum,solana,cardano,dogecoin"
PRICES = f"/api/v1/prices?ids={IDS}&vs=usd"
BARE = "/bare/sync/prices"
GUNICORN_ARGS = ("-w", "1", "--log-level", "warning")

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


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _get(port: int, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


def _rate(port: int, path: str, seconds: float) -> float:
    n = 0
    end = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < end:
        status, _ = _get(port, path)
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
        n += 1
    return n / (time.perf_counter() - started)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=2.0, help="per endpoint per round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument(
        "--l2",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also measure with L1 off (default: on when REDIS_URL is set)",
    )
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-prices-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench._bare_settings",
        "CRYPTOCAST_VAR_DIR": str(tmp),
        "SQLITE_PATH": str(tmp / "bench.sqlite3"),
        "PROVIDER_BUDGET_SQLITE_PATH": "",
        "BENCH_BODY_DIR": str(tmp),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    if args.l2 is None:
        args.l2 = bool(env.get("REDIS_URL"))
    mode = "services (PostgreSQL/Redis)" if env.get("DATABASE_URL") else "embedded (SQLite, locmem)"
    print(f"mode: {mode}")
    subprocess.run(
        [PY, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([PY, "-c", SEED], cwd=ROOT, env=env, check=True)

    print(f"body: {IDS.count(',') + 1} assets; 1 gunicorn sync worker, 1 sequential client")
    seconds = args.seconds * args.rounds * 2
    l1 = _measure(env, seconds, label="cached /api/v1/prices (L1 hit)")
    print("goal >= 0.9x for the L1 hit (the default configuration)")
    if args.l2:
        # Same code with L1 off: every hit goes to the Django cache (Redis in services mode).
        l2 = _measure({**env, "PRICES_L1_TTL_SECONDS": "0"}, seconds, label="L1 off (L2 hit only)")
        print(f"L1 hit vs L2-only hit: {l1 / l2:.2f}x the throughput")
    return 0


def _measure(env: dict[str, str], seconds: float, *, label: str) -> float:
    """Start a server, check both routes return the same bytes, time them interleaved."""
    port = _free_port()
    server = subprocess.Popen(
        [GUNICORN, "bench._bare_app:wsgi", "-b", f"127.0.0.1:{port}", *GUNICORN_ARGS],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                status, body = _get(port, PRICES)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("server did not start")
        if status != 200:
            raise SystemExit(f"/api/v1/prices answered {status}: {body[:200]!r}")
        (Path(env["BENCH_BODY_DIR"]) / "prices").write_bytes(body)
        status, bare_body = _get(port, BARE)
        assert status == 200 and bare_body == body, "bare view must return the same bytes"
        for _ in range(50):  # warm both paths
            _get(port, PRICES)
            _get(port, BARE)
        # Interleaved request by request, so load from other processes hits both alike.
        lat: dict[str, list[float]] = {PRICES: [], BARE: []}
        pairs = 0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            order = (PRICES, BARE) if pairs % 2 == 0 else (BARE, PRICES)
            for p in order:
                t0 = time.perf_counter()
                status, _ = _get(port, p)
                lat[p].append(time.perf_counter() - t0)
                if status != 200:
                    raise SystemExit(f"{p} answered {status}")
            pairs += 1
    finally:
        server.terminate()
        server.wait(10)

    def summary(xs: list[float]) -> tuple[float, float]:
        xs = sorted(xs)
        return len(xs) / sum(xs), 1 / xs[len(xs) // 2]

    c_mean, c_med = summary(lat[PRICES])
    b_mean, b_med = summary(lat[BARE])
    print(f"-- {label}: {pairs} requests of each")
    print(f"   no middleware    : {b_mean:7.1f} req/s (mean)  {b_med:7.1f} req/s (median)")
    print(f"   /api/v1/prices   : {c_mean:7.1f} req/s (mean)  {c_med:7.1f} req/s (median)")
    print(f"   ratio prices/bare: {c_mean / b_mean:.3f}x (mean)  {c_med / b_med:.3f}x (median)")
    return c_mean


if __name__ == "__main__":
    sys.exit(main())
