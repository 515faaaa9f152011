"""LightGBM per horizon vs one pooled model with the horizon as a feature: walk-forward skill.

Run: ``.venv/bin/python bench/lightgbm_horizons.py [--coins BTC,ETH,SOL,XRP] [--horizons 7]
[--test-days 360] [--refit 60] [--max-days 1500]``. Reads the sample daily candles
(``CRYPTOCAST_SAMPLE_DATA``/ohlcv/daily, no database). For each coin it runs the same
walk-forward evaluation the training service uses (``forecasts.engine.evaluate_model``:
expanding window, refit every ``--refit`` origins, no look-ahead, scored against naive on the
same origins) for both ``horizon_mode`` values, 1 LightGBM thread, and prints relMAE vs naive
per coin and horizon, the mean over coins, how many (coin, horizon) cells each layout wins,
and the CPU time of one final fit on all data. Lower relMAE is better; < 1 beats naive.
The decision and the numbers of one run are in ``docs/forecasting-lightgbm-horizons.md``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from forecasts.engine import get_forecaster  # noqa: E402
from forecasts.engine.backtest import evaluate_model  # noqa: E402
from forecasts.engine.csv_frames import load_csv_dir  # noqa: E402

MODES = ("per_horizon", "pooled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", default="BTC,ETH,SOL,XRP")
    parser.add_argument("--horizons", type=int, default=7, help="Horizons 1..N days.")
    parser.add_argument("--test-days", type=int, default=360, help="Scored origins per coin.")
    parser.add_argument("--refit", type=int, default=60, help="Refit every N origins.")
    parser.add_argument("--max-days", type=int, default=1500, help="Latest N candles (0=all).")
    parser.add_argument("--rounds", type=int, default=200, help="Boosting rounds.")
    args = parser.parse_args()

    data_dir = Path(os.environ.get("CRYPTOCAST_SAMPLE_DATA", "/work/shared/data"), "ohlcv", "daily")
    coins = [c.strip().upper() for c in args.coins.split(",") if c.strip()]
    frames = load_csv_dir(data_dir, coins)
    horizons = list(range(1, args.horizons + 1))
    print(
        f"coins {','.join(coins)}, horizons 1..{args.horizons}, {args.test_days} scored origins "
        f"per coin, refit every {args.refit}, last {args.max_days or 'all'} days, "
        f"{args.rounds} rounds, 1 thread; load average {os.getloadavg()[0]:.2f}"
    )
    rel: dict[str, dict[str, dict[int, float]]] = {m: {} for m in MODES}
    fit_s: dict[str, float] = dict.fromkeys(MODES, 0.0)
    for coin, frame in frames.items():
        if args.max_days:
            frame = frame.iloc[-args.max_days :]
        for mode in MODES:
            params = {"num_threads": 1, "num_boost_round": args.rounds, "horizon_mode": mode}
            ev = evaluate_model(
                frame,
                "lightgbm",
                horizons,
                test_days=args.test_days,
                refit_every=args.refit,
                warmup_days=60,
                params=params,
            )
            rel[mode][coin] = {h: float(ev.skill[h]["rel_mae"]) for h in horizons}
            t = time.process_time()  # CPU seconds (1 thread): robust to a shared machine
            get_forecaster("lightgbm", **params).fit(frame, horizons)
            fit_s[mode] += time.process_time() - t
        print(
            f"{coin}: relMAE per horizon  per_horizon "
            + " ".join(f"{rel['per_horizon'][coin][h]:.4f}" for h in horizons)
            + "  |  pooled "
            + " ".join(f"{rel['pooled'][coin][h]:.4f}" for h in horizons),
            flush=True,
        )
    print("mean relMAE over coins, per horizon:")
    print("  h   per_horizon  pooled")
    for h in horizons:
        a = np.mean([rel["per_horizon"][c][h] for c in coins])
        b = np.mean([rel["pooled"][c][h] for c in coins])
        print(f"  {h:<3} {a:.4f}       {b:.4f}")
    means = {m: float(np.mean([rel[m][c][h] for c in coins for h in horizons])) for m in MODES}
    wins = sum(rel["pooled"][c][h] < rel["per_horizon"][c][h] for c in coins for h in horizons)
    cells = len(coins) * len(horizons)
    beat_naive = {m: sum(rel[m][c][h] < 1.0 for c in coins for h in horizons) for m in MODES}
    print(
        f"overall mean relMAE: per_horizon {means['per_horizon']:.4f}, pooled "
        f"{means['pooled']:.4f} (pooled/per_horizon {means['pooled'] / means['per_horizon']:.4f})"
    )
    print(
        f"pooled better in {wins}/{cells} (coin, horizon) cells; beat naive (relMAE < 1): "
        f"per_horizon {beat_naive['per_horizon']}/{cells}, pooled {beat_naive['pooled']}/{cells}"
    )
    print(
        f"final fit on all data, CPU seconds per coin: per_horizon "
        f"{fit_s['per_horizon'] / len(coins):.2f}, pooled {fit_s['pooled'] / len(coins):.2f}"
    )
    print(f"better by skill: {min(MODES, key=lambda m: means[m])}")


if __name__ == "__main__":
    main()
