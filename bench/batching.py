"""Request batching of live price misses: fetch calls per request, batched vs not, one run.

64 concurrent misses for different coins, each fetch costing 3 ms (a store read or a provider
call); prints requests per fetch call and wall time with a 5 ms window and without batching.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

from markets.batching import Batcher

N, ROUNDS, COST = 64, 5, 0.003


def fetch(keys: list[str]) -> dict[str, int]:
    time.sleep(COST)
    return dict.fromkeys(keys, 1)


def run(window: float) -> tuple[float, float]:
    b = Batcher(f"bench-{window}", fetch, window=lambda: window)
    started = time.perf_counter()
    for r in range(ROUNDS):
        barrier = threading.Barrier(N)

        def one(i: int, r: int = r, barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            if window < 0:  # no batching at all: every miss calls fetch itself
                fetch([f"coin-{r}-{i}"])
            else:
                b.get_many([f"coin-{r}-{i}"])

        threads = [threading.Thread(target=one, args=(i,)) for i in range(N)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    wall = time.perf_counter() - started
    calls = b.stats()["fetch_calls"] if window >= 0 else N * ROUNDS
    return (N * ROUNDS) / calls, wall


if __name__ == "__main__":
    plain, plain_wall = run(-1.0)
    flight, flight_wall = run(0.0)
    batched, batched_wall = run(0.005)
    print(
        f"requests per fetch: no batching {plain:.1f}, single-flight only {flight:.1f}, "
        f"5 ms window {batched:.1f}"
    )
    print(
        f"fetch calls saved by the 5 ms window: {1 - 1 / batched:.1%} "
        f"(ratio {batched / plain:.1f}x fewer calls)"
    )
    print(
        f"wall time for {N * ROUNDS} misses: no batching {plain_wall * 1000:.0f} ms, "
        f"batched {batched_wall * 1000:.0f} ms"
    )
