"""LightGBM fit time for 1e4 rows x 50 features on 2 threads (goal: <= 1 s).

Run: ``.venv/bin/python bench/lightgbm_fit.py``. Prints the fit time with the production
parameters of ``forecasts.engine`` (one booster, 200 rounds), its ratio to the 1 s budget, and a
reference computation timed in the same run (numpy least squares on the same matrix), so that
a slow or busy machine shows up as a high reference time rather than a mysterious regression.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# the reference is single-threaded BLAS: its own threads would fight LightGBM's
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lightgbm as lgb
import numpy as np

from forecasts.engine.models.gbm import DEFAULT_PARAMS

ROWS, COLS, ROUNDS, REPEATS, BUDGET_S = 10_000, 50, 200, 5, 1.0


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((ROWS, COLS))
    y = x[:, :5] @ rng.standard_normal(5) * 0.01 + 0.02 * rng.standard_normal(ROWS)
    params = {**DEFAULT_PARAMS, "num_threads": 2}

    def fit() -> None:
        lgb.train(params, lgb.Dataset(x, label=y), num_boost_round=ROUNDS)

    def lstsq() -> None:
        for _ in range(5):
            np.linalg.lstsq(np.c_[x, np.ones(ROWS)], y, rcond=None)

    fit()  # warm-up (thread pool, allocations)
    fits, refs = [], []
    for _ in range(REPEATS):  # interleaved, so both see the same machine load
        t = time.perf_counter()
        fit()
        fits.append(time.perf_counter() - t)
        t = time.perf_counter()
        lstsq()
        refs.append(time.perf_counter() - t)
    fit_s, ref_s = statistics.median(fits), statistics.median(refs)
    print(
        f"LightGBM fit {ROWS} x {COLS}, {ROUNDS} rounds, 2 threads: median {fit_s:.3f} s "
        f"(min {min(fits):.3f}, max {max(fits):.3f}, {REPEATS} runs)"
    )
    print(f"reference: 5 x numpy lstsq (1 thread) on the same matrix: median {ref_s:.3f} s")
    print(
        f"ratio fit / 1 s budget: {fit_s / BUDGET_S:.2f}  "
        f"({'OK' if fit_s <= BUDGET_S else 'OVER BUDGET'})"
    )
    print(f"ratio fit / reference: {fit_s / ref_s:.2f}")
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
