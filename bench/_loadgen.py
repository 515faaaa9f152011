"""A small asyncio HTTP/1.1 load generator for the benchmarks (loopback only, keep-alive).

Why not httpx or locust: on a shared 2-core machine the generator must cost far less CPU than
the server it measures. This speaks just enough HTTP/1.1 (Content-Length and chunked bodies,
keep-alive, reconnect on ``Connection: close``) and reports its own CPU use so a run can tell
whether the client was the bottleneck (``calibrate`` measures it on a static server first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

HOST = "127.0.0.1"


def free_port() -> int:
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class HttpError(Exception):
    pass


class Connection:
    """One keep-alive connection; ``request`` reconnects when the server closed it."""

    def __init__(self, port: int, *, host: str = HOST, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):
            if self.writer is None:
                await self._connect()
            try:
                return await asyncio.wait_for(
                    self._roundtrip(method, path, body, headers or {}), self.timeout
                )
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                await self.close()  # a closed keep-alive connection: retry once on a new one
                if attempt:
                    raise HttpError(str(exc) or type(exc).__name__) from exc
        raise AssertionError("unreachable")

    async def _roundtrip(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None and self.writer is not None
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        rh: dict[str, str] = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                rh[k.strip().lower()] = v.strip()
        if "content-length" in rh:
            data = await self.reader.readexactly(int(rh["content-length"]))
        elif rh.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            data = b"".join(parts)
        else:
            data = await self.reader.read()
            rh["connection"] = "close"
        if rh.get("connection", "").lower() == "close":
            await self.close()
        return status, rh, data


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    first_error: str = ""

    def add(self, seconds: float, status: int, ok: bool) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if not ok:
            self.errors += 1

    def pct(self, p: float) -> float:
        xs = sorted(self.latencies)
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] * 1000

    @property
    def count(self) -> int:
        return len(self.latencies)


Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


async def closed_loop(
    port: int,
    *,
    pick: Callable[[int], tuple[str, Request]],
    clients: int,
    seconds: float,
    ok: Callable[[str, int], bool] = lambda name, status: status == 200,
    client_headers: Callable[[int], dict[str, str]] | None = None,
) -> tuple[dict[str, Stats], float, float]:
    """``clients`` connections, each sending its next request as soon as the last answered.

    ``pick(i)`` returns (endpoint name, request) for the i-th request of a client;
    ``client_headers(c)`` adds headers to every request of client ``c`` (e.g. its own
    forwarded address). Returns the stats per endpoint, the wall time and the generator's own
    CPU seconds.
    """
    stats: dict[str, Stats] = {}
    deadline = time.perf_counter() + seconds

    async def client(cid: int) -> None:
        conn = Connection(port)
        own = client_headers(cid) if client_headers else {}
        i = cid
        try:
            while time.perf_counter() < deadline:
                name, (method, path, body, headers) = pick(i)
                headers = {**headers, **own} if own else headers
                i += clients
                st = stats.setdefault(name, Stats())
                t0 = time.perf_counter()
                try:
                    status, _, _ = await conn.request(method, path, body=body, headers=headers)
                except (HttpError, TimeoutError, OSError) as exc:
                    st.add(time.perf_counter() - t0, 0, False)
                    st.first_error = st.first_error or repr(exc)
                    await conn.close()
                    continue
                st.add(time.perf_counter() - t0, status, ok(name, status))
        finally:
            await conn.close()

    cpu0 = time.process_time()
    t0 = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    return stats, time.perf_counter() - t0, time.process_time() - cpu0


def get(path: str, headers: dict[str, str] | None = None) -> Request:
    return ("GET", path, b"", headers or {})


def post_json(path: str, payload: object, headers: dict[str, str] | None = None) -> Request:
    h = {"Content-Type": "application/json", **(headers or {})}
    return ("POST", path, json.dumps(payload).encode(), h)


async def fetch(port: int, path: str, **kw: object) -> tuple[int, dict[str, str], bytes]:
    conn = Connection(port)
    try:
        return await conn.request("GET", path, **kw)  # type: ignore[arg-type]
    finally:
        await conn.close()


async def wait_ready(port: int, path: str, *, seconds: float = 60.0, proc=None) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            status, _, _ = await fetch(port, path)
            if status < 500:
                return
        except (OSError, HttpError):
            pass
        await asyncio.sleep(0.2)
    raise SystemExit(f"server on {port} did not answer {path}")


# --- calibration: the generator against a static response ----------------------------------

_STATIC_SERVER = r"""
import asyncio, sys
RESP = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"
        b'{"status":"ok"}')
async def handle(r, w):
    try:
        while True:
            await r.readuntil(b"\r\n\r\n")
            w.write(RESP)
    except Exception:
        w.close()
async def main():
    s = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    async with s:
        await s.serve_forever()
asyncio.run(main())
"""


def calibrate(*, clients: int, seconds: float = 2.0) -> tuple[float, float]:
    """(requests/s, generator CPU share) against a static asyncio server in its own process:
    the generator's ceiling on this machine right now."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _STATIC_SERVER, str(port)])
    try:
        asyncio.run(wait_ready(port, "/", proc=proc))
        stats, wall, cpu = asyncio.run(
            closed_loop(port, pick=lambda i: ("static", get("/")), clients=clients, seconds=seconds)
        )
    finally:
        proc.terminate()
        proc.wait(10)
    return stats["static"].count / wall, cpu / wall


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process and its children so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            continue
    return total


def table(rows: Iterable[tuple[str, Stats]], wall: float) -> list[str]:
    out = [f"   {'endpoint':<34}{'req/s':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for name, st in rows:
        out.append(
            f"   {name:<34}{st.count / wall:9.1f}{st.errors:8d}"
            f"{st.pct(50):9.2f}{st.pct(95):9.2f}{st.pct(99):9.2f}"
        )
    return out


__all__ = [
    "Connection",
    "Stats",
    "calibrate",
    "closed_loop",
    "cpu_seconds",
    "fetch",
    "free_port",
    "get",
    "post_json",
    "table",
    "wait_ready",
]
