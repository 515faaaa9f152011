"""Fanned-out training: 1 vs 2 Celery worker processes, the fan-out's per-task overhead, and
training time per coin per model type for 30 horizons (one fit for all vs one per horizon).

Run: ``.venv/bin/python bench/training_scale.py [--coins 6] [--models drift,ets,lightgbm]
[--horizons 7]``. Self-contained: a temporary SQLite database, artifacts folder and SQLite
broker (the embedded mode's kombu SQLAlchemy transport), the sample candles loaded into it.
The same workload (coins x model types, ``naive`` always added, horizons 1..N, the default
walk-forward windows) is measured three ways in one run:

1. **direct**: the same run, each task executed by ``forecasts.services.execute_task`` (what
   the Celery task calls: load history, train, register in the manifest) one after another in
   this process;
2. **fan-out, 1 worker**: one run, one message per (coin, model), one real ``celery worker``
   process (prefork, concurrency 1) consuming them;
3. **fan-out, 2 workers**: the same with concurrency 2.

First (part 0, **horizons**) it times, per model type (``--horizon-models``) and per coin
(``--horizon-coins``), what training one coin costs for ``--horizon-days`` (30) horizons: the
walk-forward evaluation plus the final fit, done **once for all horizons** (what training
does: every model predicts all horizons from one fit; LightGBM in its configured layout,
and also in the ``pooled`` layout) vs **once per horizon** (30 separate trainings, the cost
of a model that cannot share a fit across horizons), and prints the ratio. Part 0 counts
this process's CPU seconds (everything runs on 1 thread), so other jobs on the machine do
not inflate it; the ``lightgbm pooled`` row reuses lightgbm's per-horizon figure (with one
horizon the two layouts are the same model).

Small flags for a run of a few minutes on a busy machine::

    bench/training_scale.py --coins 2 --models ets,lightgbm --horizons 3 --max-days 400 \
        --horizon-coins 1 --horizon-models drift,ets,lightgbm --horizon-eval-days 60

``--skip-fanout`` runs part 0 only; ``--horizon-models ""`` skips it.

Wall clock is from starting the run to the run closing (every task reported). Worker start-up
is excluded: each worker pool first does an untimed warm-up run (start-up, imports, caches), as
a long-lived worker would have. LightGBM runs with 1 thread in all three, so parallelism comes
from the workers only. Prints the speedup (goal >= 1.7x with 2 workers on 2 cores) and the
fan-out's overhead per task vs the direct call (goal <= 5%), plus the load average: on a
machine shared with other jobs the 2-worker figure is bounded by the free cores.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _env(tmp: Path, broker_url: str = "", database_url: str = "") -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }  # never the developer's database or Redis
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        CRYPTOCAST_VAR_DIR=str(tmp),
        SQLITE_PATH=str(tmp / "bench.sqlite3"),
        MODEL_ARTIFACTS_DIR=str(tmp / "artifacts"),
        CELERY_BROKER_URL=broker_url or f"sqla+sqlite:///{tmp / 'broker.sqlite3'}",
        CELERY_RESULT_BACKEND=f"db+sqlite:///{tmp / 'results.sqlite3'}",
        PROVIDER_BUDGET_SQLITE_PATH="",
        LOG_LEVEL="WARNING",
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
    )
    if database_url:  # an empty PostgreSQL database of its own (services mode's database)
        env["DATABASE_URL"] = database_url
    return env


def _start_worker(env: dict[str, str], concurrency: int, log: Path) -> subprocess.Popen:
    cmd = [
        str(ROOT / ".venv" / "bin" / "celery"),
        "-A",
        "config",
        "worker",
        "-P",
        "prefork",
        "-c",
        str(concurrency),
        "-l",
        "info",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-n",
        f"bench{concurrency}@%h",
    ]
    fh = open(log, "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT)
    time.sleep(1)
    if proc.poll() is not None:
        raise SystemExit(f"worker exited early:\n{log.read_text()[-2000:]}")
    return proc  # ready when it has done the (untimed) warm-up run


def _run_and_wait(start_kwargs: dict, timeout: float = 3600) -> tuple[float, dict]:
    from django.db import transaction

    from forecasts import selectors, services
    from forecasts.models import ForecastRun

    started = time.perf_counter()
    with transaction.atomic():
        run = services.training_run_start(**start_kwargs)
    while time.perf_counter() - started < timeout:
        if ForecastRun.objects.filter(pk=run.pk, finished_at__isnull=False).exists():
            elapsed = time.perf_counter() - started
            summary = selectors.run_summary(run=run)
            busy = sum(t.seconds or 0.0 for t in run.tasks.all())
            summary["parallelism"] = busy / elapsed  # task-seconds per wall second
            return elapsed, summary
        time.sleep(0.05)
    raise SystemExit(f"run {run.pk} did not finish in {timeout} s")


def _horizon_timing(assets: list, args: argparse.Namespace) -> None:
    """Part 0: seconds per coin per model type for ``--horizon-days`` horizons, one training
    for all horizons vs one training per horizon (walk-forward evaluation + final fit)."""
    from forecasts.engine import get_forecaster
    from forecasts.services import training

    models = [m for m in args.horizon_models.split(",") if m]
    if not models:
        return
    horizons = list(range(1, args.horizon_days + 1))
    overrides = {
        "max_history_days": args.max_days,
        "eval_days": args.horizon_eval_days,
        "refit_every": args.horizon_eval_days,
        "params": {"lightgbm": {"num_threads": 1}},
    }
    coins = assets[: args.horizon_coins]
    print(
        f"horizons: {len(coins)} coin(s) ({','.join(a.symbol for a in coins)}), horizons "
        f"1..{args.horizon_days}, walk-forward {args.horizon_eval_days} test origins + warm-up, "
        f"refit every {args.horizon_eval_days}, last {args.max_days or 'all'} days; "
        f"load average {os.getloadavg()[0]:.2f}"
    )

    def train_seconds(model: str, history, hs: list[int], params: dict | None = None) -> float:
        """CPU seconds of this process (1 thread everywhere): robust to a shared machine."""
        config = training.TrainConfig.from_settings(horizons=hs, **overrides)
        if params:
            config.params[model] = {**config.params.get(model, {}), **params}
        t = time.process_time()
        training.evaluate(model=model, history=history, config=config)
        get_forecaster(model, **config.params.get(model, {})).fit(history, hs)
        return time.process_time() - t

    history_config = training.TrainConfig.from_settings(max_history_days=args.max_days)
    histories = {a.pk: training._load_history(a, history_config) for a in coins}
    rows = []
    per_lightgbm = 0.0
    variants: list[tuple[str, str, dict | None]] = [(m, m, None) for m in models]
    if "lightgbm" in models:
        variants.append(("lightgbm pooled", "lightgbm", {"horizon_mode": "pooled"}))
    for label, model, params in variants:
        one = per = 0.0
        for asset in coins:
            history = histories[asset.pk]
            train_seconds(model, history, [1], params)  # warm-up: imports, caches
            one += train_seconds(model, history, horizons, params)
            if label != "lightgbm pooled":  # one horizon pooled = per horizon: reuse it
                per += sum(train_seconds(model, history, [h], params) for h in horizons)
        if label == "lightgbm":
            per_lightgbm = per
        elif label == "lightgbm pooled":
            per = per_lightgbm
        rows.append((label, per / len(coins), one / len(coins)))
        print(
            f"  {label:<16} one training per horizon {per / len(coins):8.2f} s/coin   "
            f"one for all horizons {one / len(coins):7.2f} s/coin   ratio {per / one:6.2f}x",
            flush=True,
        )
    print(
        f"horizons, CPU seconds per coin for {args.horizon_days} horizons (before = one "
        "training per horizon, after = one for all): "
        + "; ".join(f"{label} {p:.2f} -> {o:.2f} ({p / o:.1f}x)" for label, p, o in rows)
    )


def main() -> None:
    # a terminated benchmark still stops its workers (the finally blocks run)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", type=int, default=6)
    parser.add_argument("--models", default="drift,ets,lightgbm")
    parser.add_argument("--horizons", type=int, default=7)
    parser.add_argument(
        "--max-days", type=int, default=500, help="Daily candles per coin (latest; 0 = all)."
    )
    parser.add_argument(
        "--horizon-models",
        default="drift,ets,lightgbm",
        help="Model types of part 0 (horizon timing); empty = skip it.",
    )
    parser.add_argument("--horizon-days", type=int, default=30, help="Horizons 1..N of part 0.")
    parser.add_argument("--horizon-coins", type=int, default=1, help="Coins timed in part 0.")
    parser.add_argument(
        "--horizon-eval-days",
        type=int,
        default=60,
        help="Part 0: walk-forward test origins (and refit interval) per training.",
    )
    parser.add_argument("--skip-fanout", action="store_true", help="Run part 0 only.")
    parser.add_argument(
        "--database-url",
        default="",
        help="An EMPTY PostgreSQL database for the run (default: a temporary SQLite file, "
        "whose single writer serialises the workers' bookkeeping).",
    )
    parser.add_argument(
        "--broker-url",
        default="",
        help="Broker of the fan-out (default: the embedded SQLite broker in a temp folder; "
        "e.g. redis://127.0.0.1:6379/7 for the services-mode broker: give it a database of "
        "its own).",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-train-"))
    env = _env(tmp, args.broker_url, args.database_url)
    os.environ.update(env)
    for key in ("DATABASE_URL", "REDIS_URL"):
        if key not in env:
            os.environ.pop(key, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from markets.services import load_sample_data

    loaded = load_sample_data()
    if not loaded.available:
        raise SystemExit(f"no sample data: {loaded.message}")

    from markets import selectors as market_selectors

    assets = list(market_selectors.asset_list(active_only=True))[: args.coins]
    _horizon_timing(list(market_selectors.asset_list(active_only=True)), args)
    if args.skip_fanout:
        return
    symbols = [a.symbol for a in assets]
    models = ["naive", *[m for m in args.models.split(",") if m and m != "naive"]]
    params = {"lightgbm": {"num_threads": 1}}
    horizons = list(range(1, args.horizons + 1))
    start_kwargs = {
        "symbols": symbols,
        "models": models,
        "horizons": horizons,
        "params": params,
        "max_history_days": args.max_days,
        "issue_after": False,
    }
    n_tasks = len(symbols) * len(models)
    print(
        f"workload: {len(symbols)} coins ({','.join(symbols)}) x {len(models)} model types "
        f"({','.join(models)}) = {n_tasks} tasks, horizons 1..{args.horizons}, last "
        f"{args.max_days or 'all'} days, default walk-forward windows; "
        f"load average before: {os.getloadavg()[0]:.2f}; broker: "
        f"{args.broker_url or 'embedded SQLite (kombu polls it every second)'}; database: "
        f"{'PostgreSQL' if args.database_url else 'SQLite (one writer at a time)'}"
    )

    # 1. direct: the same run, its tasks executed one after another in this process by the
    # service each Celery task calls (forecasts.services.execute_task: load history, train,
    # register in the manifest), after an untimed warm-up run like the workers get
    from django.db import transaction

    from forecasts import services
    from forecasts.models import ForecastRunTask

    def direct_run(kwargs: dict) -> tuple[float, dict[str, float]]:
        with transaction.atomic():
            run = services.training_run_start(**kwargs, enqueue=False)
        per: dict[str, float] = {}
        started = time.perf_counter()
        for task in ForecastRunTask.objects.filter(run=run).order_by("id"):
            t = time.perf_counter()
            services.execute_task(task_id=task.pk)
            per[task.model] = per.get(task.model, 0.0) + time.perf_counter() - t
        return time.perf_counter() - started, per

    direct_run({**start_kwargs, "symbols": symbols[:1]})  # warm-up: imports and caches
    direct, per_model = direct_run(start_kwargs)
    print(
        "direct, seconds per coin by model type: "
        + ", ".join(f"{m} {v / len(symbols):.2f}" for m, v in per_model.items())
    )
    print(
        f"direct (execute_task called in 1 process): {direct:.2f} s ({direct / n_tasks:.2f} s/task)"
    )

    # 2./3. fanned out over real worker processes
    results: dict[int, float] = {}
    outside: dict[int, tuple[float, float]] = {}
    for concurrency in (1, 2):
        proc = _start_worker(env, concurrency, tmp / f"worker{concurrency}.log")
        try:
            warm = {**start_kwargs, "symbols": symbols[: max(1, concurrency)]}
            _run_and_wait(warm)
            elapsed, summary = _run_and_wait(start_kwargs)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        if summary["counts"].get("done", 0) != n_tasks:
            raise SystemExit(f"fan-out with {concurrency} worker(s) did not finish: {summary}")
        results[concurrency] = elapsed
        outside[concurrency] = (elapsed, summary["parallelism"] * elapsed)
        print(
            f"fan-out, {concurrency} worker process(es): {elapsed:.2f} s "
            f"({elapsed / n_tasks:.2f} s/task); tasks overlapping on average: "
            f"{summary['parallelism']:.2f}; load average: {os.getloadavg()[0]:.2f}"
        )

    for concurrency, (elapsed, busy) in outside.items():
        print(
            f"{concurrency} worker(s): wall time outside any task (queueing, broker polling, "
            f"bookkeeping): {(elapsed * concurrency - busy) / n_tasks * 1000:.0f} ms/task, "
            f"{(1 - busy / (elapsed * concurrency)) * 100:.1f}% of worker time"
        )
    overhead = (results[1] - direct) / direct
    speedup = results[1] / results[2]
    print(
        f"per-task overhead of the fan-out vs direct calls (1 worker): {overhead * 100:+.1f}% "
        f"({(results[1] - direct) / n_tasks * 1000:+.0f} ms/task) (goal <= 5%: "
        f"{'OK' if overhead <= 0.05 else 'OVER'})"
    )
    print(
        f"speedup 2 workers vs 1: {speedup:.2f}x (goal >= 1.7x on 2 free cores: "
        f"{'OK' if speedup >= 1.7 else 'UNDER'}; {os.cpu_count()} cores, shared)"
    )


if __name__ == "__main__":
    main()
