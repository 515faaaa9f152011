"""Training and issuing fanned out over Celery workers: one task per (coin, model type).

A *run* (``ForecastRun``) is created in one transaction with a row per task
(``ForecastRunTask``); on commit one Celery message per queued row is sent, so any number of
workers share the work. Each task:

- holds its own lease (``core.locks``, kept alive by a heartbeat while it works, so a killed
  worker's lease lapses within ``FORECAST_TASK_LEASE_SECONDS`` and the re-delivered message
  can take over);
- is idempotent: a finished row is never redone; a training task writes a version id fixed by
  its run (``v<run start>-r<run id>``), so a re-run after a crash either finds it registered
  (and only re-applies the promotion rule) or replaces the unregistered leftover;
- updates the manifest itself, under the manifest's file lock (``mlserving``), so the manifest
  is consistent after every task whatever happens to the others; a failed task changes
  nothing in it;
- records its outcome (done / failed / skipped, duration, skill vs naive, promoted, why).
  A failure is reported on its row and never blocks the other tasks.

The last task to finish closes the run (one conditional UPDATE wins) and, on commit, mirrors
the manifest into the admin table and (training runs) starts the issuing run.

Which coins (``tracked_assets``): active assets in the top ``FORECAST_TOP_N`` by market-cap
rank, plus ``FORECAST_DEFAULT_SYMBOLS``, plus whatever the apps above register (alerts:
coins on a user's watchlist) through :func:`tracked_assets_register`. A coin is trained and
issued only with *enough history*: at least ``eval + warm-up + 60`` daily candles (the
walk-forward evaluation's need, 240 by default); a coin with less gets a ``skipped`` row
saying "not enough history", never a silent naive forecast.
"""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import structlog
from celery import group, signature
from django.conf import settings
from django.db import OperationalError, close_old_connections, transaction
from django.db.models import Avg
from django.utils import timezone

from core.locks import Lease, LockUnavailable, acquire, is_held
from forecasts import response_cache, selectors
from forecasts.catalogue import (
    BASELINE,
    ForecastInputError,
    check_models,
    default_models,
    horizon_days,
    key_of,
    parse_csv,
)
from forecasts.models import (
    FINAL_TASK_STATUSES,
    ForecastRun,
    ForecastRunTask,
    RunKind,
    RunStatus,
    TaskStatus,
)
from forecasts.services import training
from forecasts.services.generation import generate_forecasts
from markets import selectors as market_selectors
from mlserving import selectors as ml_selectors
from mlserving import services as ml_services

log = structlog.get_logger(__name__)

ISSUE_MODEL = "*"  # an issuing task covers every model (+auto) of one coin
#: a task re-delivered this many times (e.g. it keeps killing its worker) is given up
MAX_ATTEMPTS = 3
TRANSIENT = (LockUnavailable, OperationalError, ConnectionError, TimeoutError)


class TaskBusy(Exception):
    """Another worker holds this task's lease (it is running it, or died less than a lease
    ago); the caller retries after ``retry_in`` seconds."""

    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(f"{name} is held by another worker")
        self.retry_in = retry_in


# --- which coins --------------------------------------------------------------------------------

_tracked_sources: dict[str, Callable[[], Iterable[str]]] = {}


def tracked_assets_register(name: str, fn: Callable[[], Iterable[str]]) -> None:
    """Apps above forecasts add coins to forecast (``fn()`` -> asset ids), e.g. alerts'
    watchlists. Registered from ``AppConfig.ready()``; the same name replaces."""
    _tracked_sources[name] = fn


def top_n() -> int:
    return max(0, int(getattr(settings, "FORECAST_TOP_N", 20)))


def tracked_assets() -> list[Any]:
    """Top N active coins by market-cap rank + default symbols + registered extras (ranked
    coins first, each once)."""
    ordered: dict[str, Any] = {}
    for asset in market_selectors.asset_list(active_only=True).filter(rank__isnull=False)[
        : top_n()
    ]:
        ordered.setdefault(asset.pk, asset)
    wanted: list[str] = list(getattr(settings, "FORECAST_DEFAULT_SYMBOLS", []) or [])
    for name, fn in sorted(_tracked_sources.items()):
        try:
            wanted.extend(str(i) for i in fn())
        except Exception as exc:  # one broken source must not stop the forecasts
            log.error("forecasts.tracked_source_failed", source=name, error=repr(exc))
    for ident in wanted:
        try:
            asset = market_selectors.asset_get(ident)
        except market_selectors.AssetNotFound:
            log.warning("forecasts.tracked_unknown", asset=ident)
            continue
        if asset.is_active:
            ordered.setdefault(asset.pk, asset)
    return list(ordered.values())


def min_history_days(config: Any) -> int:
    """Daily candles a coin needs to be trained and issued (the walk-forward's need)."""
    return int(config.eval_days + config.warmup_days + 60)


def daily_candle_count(asset: Any) -> int:
    return int(market_selectors.candles(asset=asset, interval="1d").count())


def not_enough_history(count: int, need: int) -> str:
    return f"not enough history: {count} daily candles, forecasts need at least {need}"


# --- starting runs ------------------------------------------------------------------------------


def _train_config(
    *,
    horizons: Sequence[int] | None = None,
    eval_days: int | None = None,
    refit_every: int | None = None,
    warmup_days: int | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    max_history_days: int | None = None,
) -> training.TrainConfig:
    return training.checked_config(
        horizons=horizons,
        eval_days=eval_days,
        refit_every=refit_every,
        warmup_days=warmup_days,
        params=params,
        max_history_days=max_history_days,
    )


def _config_of(run: ForecastRun) -> training.TrainConfig:
    raw = dict(run.params["config"])
    raw["horizons"] = tuple(raw["horizons"])
    return training.TrainConfig(**raw)


@transaction.atomic
def training_run_start(
    *,
    symbols: Sequence[str] | str | None = None,
    models: Sequence[str] | str | None = None,
    horizons: Sequence[int] | None = None,
    eval_days: int | None = None,
    refit_every: int | None = None,
    warmup_days: int | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    max_history_days: int | None = None,
    issue_after: bool = True,
    enqueue: bool = True,
) -> ForecastRun:
    """Create a training run (one task per coin x model; ``naive`` always: it is the bar)
    and, on commit, send its tasks. ``symbols`` default: :func:`tracked_assets`.

    ``issue_after``: when the last task finishes, an issuing run starts (fresh forecasts from
    the new champions). ``enqueue=False`` only records the run (callers that execute the
    tasks themselves, e.g. a benchmark).
    """
    names = check_models(parse_csv(models) or default_models(), allow_auto=False)
    if BASELINE not in names:
        names.insert(0, BASELINE)
    wanted = parse_csv(symbols)
    assets = _unique(selectors.resolve_assets(wanted) if wanted else tracked_assets())
    config = _train_config(
        horizons=horizons,
        eval_days=eval_days,
        refit_every=refit_every,
        warmup_days=warmup_days,
        params=params,
        max_history_days=max_history_days,
    )
    need = min_history_days(config)
    reap_lost_tasks(kind=RunKind.TRAIN)
    run = ForecastRun.objects.create(
        kind=RunKind.TRAIN,
        params={
            "config": asdict(config),
            "models": names,
            "min_history_days": need,
            "issue_after": issue_after,
        },
    )
    rows = _create_tasks(run, assets=assets, models=names, need=need)
    _dispatch(run, enqueue=enqueue)
    log.info("forecasts.training_run_started", run=run.pk, tasks=len(rows), coins=len(assets))
    return run


@transaction.atomic
def issuing_run_start(
    *,
    symbols: Sequence[str] | str | None = None,
    models: Sequence[str] | str | None = None,
    days: int | None = None,
    enqueue: bool = True,
) -> ForecastRun:
    """Create an issuing run (one task per coin: every model + ``auto``) and send it on
    commit. Coins without enough history get a ``skipped`` row saying so."""
    names = check_models(parse_csv(models) or default_models(), allow_auto=True)
    if "auto" not in names:
        names.append("auto")
    max_days = horizon_days()
    days = max_days if days is None else int(days)
    if not 1 <= days <= max_days:
        raise ForecastInputError(f"days must be between 1 and {max_days}")
    wanted = parse_csv(symbols)
    assets = _unique(selectors.resolve_assets(wanted) if wanted else tracked_assets())
    need = min_history_days(_train_config())
    reap_lost_tasks(kind=RunKind.ISSUE)
    run = ForecastRun.objects.create(
        kind=RunKind.ISSUE, params={"models": names, "days": days, "min_history_days": need}
    )
    _create_tasks(run, assets=assets, models=[ISSUE_MODEL], need=need)
    _dispatch(run, enqueue=enqueue)
    log.info("forecasts.issuing_run_started", run=run.pk, coins=len(assets))
    return run


def _create_tasks(
    run: ForecastRun, *, assets: Sequence[Any], models: Sequence[str], need: int
) -> list[ForecastRunTask]:
    """One task per (coin, model); a coin with less than ``need`` daily candles gets its
    tasks ``skipped``, saying so, instead of a silent naive."""
    rows = []
    for asset in assets:
        count = daily_candle_count(asset)
        short = count < need
        rows += [
            ForecastRunTask(
                run=run,
                asset=asset,
                model=model,
                status=TaskStatus.SKIPPED if short else TaskStatus.QUEUED,
                detail=not_enough_history(count, need) if short else "",
                finished_at=timezone.now() if short else None,
            )
            for model in models
        ]
    return ForecastRunTask.objects.bulk_create(rows)


def _unique(assets: Iterable[Any]) -> list[Any]:
    return list({a.pk: a for a in assets}.values())


#: how far back finished tasks say what a model type typically costs
TYPICAL_SECONDS_DAYS = 90


def typical_seconds(*, kind: str) -> dict[str, float]:
    """Mean duration of each model type's finished tasks of this kind (last 90 days)."""
    since = timezone.now() - timedelta(days=TYPICAL_SECONDS_DAYS)
    rows = (
        ForecastRunTask.objects.filter(
            run__kind=kind, status=TaskStatus.DONE, seconds__isnull=False, finished_at__gte=since
        )
        .values("model")
        .annotate(mean=Avg("seconds"))
    )
    return {row["model"]: float(row["mean"]) for row in rows}


def _dispatch(run: ForecastRun, *, enqueue: bool) -> None:
    """Send the queued tasks longest first (by what each model type took before; a type never
    measured counts as the longest): the short ones then fill the workers' last gaps instead
    of one long task running alone at the end while the other workers idle."""
    queued = list(
        ForecastRunTask.objects.filter(run=run, status=TaskStatus.QUEUED)
        .order_by("id")
        .values_list("id", "model")
    )
    typical = typical_seconds(kind=run.kind) if len(queued) > 1 else {}
    queued.sort(key=lambda row: -typical.get(row[1], math.inf))  # stable: ids within a type
    ids = [task_id for task_id, _ in queued]
    if not ids:
        _maybe_finish_run(run.pk)
        return
    if enqueue:
        transaction.on_commit(lambda: enqueue_tasks(kind=run.kind, task_ids=ids))


#: the Celery tasks (``forecasts.tasks``) that run one row of a run, by name: tasks call the
#: services, never the reverse, so the services send messages by task name
TASK_NAMES = {RunKind.TRAIN: "forecasts.train_task", RunKind.ISSUE: "forecasts.issue_task"}


def enqueue_tasks(*, kind: str, task_ids: Sequence[int]) -> None:
    """Send one Celery message per task (a group: any worker takes any of them)."""
    if kind == RunKind.TRAIN:
        limit = int(getattr(settings, "FORECAST_TRAIN_TASK_SECONDS", 3600))
    else:
        limit = int(getattr(settings, "FORECAST_ISSUE_TASK_SECONDS", 600))
    options: dict[str, Any] = {"time_limit": limit, "soft_time_limit": max(1, limit - 60)}
    queue = getattr(settings, "FORECAST_TRAINING_QUEUE", "") if kind == RunKind.TRAIN else ""
    if queue:
        options["queue"] = queue
    name = TASK_NAMES[RunKind(kind)]
    group(
        signature(name, args=(task_id,), immutable=True).set(**options) for task_id in task_ids
    ).apply_async()


# --- executing one task -------------------------------------------------------------------------


def lease_seconds() -> float:
    return max(5.0, float(getattr(settings, "FORECAST_TASK_LEASE_SECONDS", 120)))


@contextlib.contextmanager
def _heartbeat(lease: Lease) -> Iterator[None]:
    """Extend ``lease`` every third of its ttl while the body runs (a killed worker stops
    extending it, so its lease lapses and a re-delivered message can take over)."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(lease.ttl / 3):
                try:
                    if not lease.extend():
                        log.error("forecasts.lease_lost", lease=lease.name)
                        return
                except Exception as exc:
                    log.warning("forecasts.lease_extend_failed", error=repr(exc))
        finally:
            close_old_connections()

    thread = threading.Thread(target=beat, name=f"lease:{lease.name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def execute_task(*, task_id: int, final_attempt: bool = True) -> ForecastRunTask:
    """Run one task of a run under its own lease (idempotent; see the module docstring).

    Raises ``TaskBusy`` when another worker holds the lease, and transient errors (database,
    lock store) unless ``final_attempt``, so the Celery task retries them; anything else is
    recorded as ``failed`` on the row and the run goes on.
    """
    name = f"forecasts:run-task:{task_id}"
    lease = acquire(name, ttl=lease_seconds())
    if lease is None:
        raise TaskBusy(name, retry_in=lease_seconds())
    try:
        with _heartbeat(lease):
            return _execute(task_id=task_id, final_attempt=final_attempt)
    finally:
        lease.release()


def _execute(*, task_id: int, final_attempt: bool) -> ForecastRunTask:
    task = ForecastRunTask.objects.select_related("run", "asset").get(pk=task_id)
    if task.status in FINAL_TASK_STATUSES:
        return task  # done before (a duplicate or re-delivered message): nothing to redo
    if task.attempts >= MAX_ATTEMPTS:
        _finish(
            task,
            status=TaskStatus.FAILED,
            detail=f"gave up after {task.attempts} attempts (the worker died each time?)",
        )
        return task
    ForecastRunTask.objects.filter(pk=task.pk).update(
        status=TaskStatus.RUNNING, attempts=task.attempts + 1, started_at=timezone.now()
    )
    task.attempts += 1
    started = time.perf_counter()
    try:
        fields = _train(task) if task.run.kind == RunKind.TRAIN else _issue(task)
    except TRANSIENT as exc:
        if not final_attempt:
            ForecastRunTask.objects.filter(pk=task.pk).update(
                status=TaskStatus.QUEUED, detail=f"retrying: {exc.__class__.__name__}"[:500]
            )
            raise
        fields = {"status": TaskStatus.FAILED, "detail": f"{exc.__class__.__name__}: {exc}"}
    except Exception as exc:  # includes SoftTimeLimitExceeded: recorded, the run goes on
        log.error(
            "forecasts.run_task_failed",
            task=task.pk,
            asset=task.asset_id,
            model=task.model,
            error=repr(exc),
        )
        fields = {"status": TaskStatus.FAILED, "detail": f"{exc.__class__.__name__}: {exc}"}
    _finish(task, seconds=round(time.perf_counter() - started, 3), **fields)
    return task


def run_version_id(run: ForecastRun) -> str:
    """The version every training task of ``run`` writes (sorts with ``new_version_id``)."""
    return f"v{run.created_at:%Y%m%dT%H%M%S}-r{run.pk}"


def _train(task: ForecastRunTask) -> dict[str, Any]:
    run, asset = task.run, task.asset
    config = _config_of(run)
    key = key_of(asset)
    version = run_version_id(run)
    registered = ml_selectors.version_get(key=key, model=task.model, version=version)
    if registered is not None:
        # A previous attempt registered it and died before reporting: keep that version and
        # re-apply the promotion rule (idempotent), do not train a second one.
        promotion = ml_services.promote(key=key, model=task.model, version=version)
        skill = registered.metrics.get("skill_score")
        return _train_fields(version, skill, promotion.promoted, promotion.reason)
    history = training._load_history(asset, config)
    need = min_history_days(config)
    if len(history) < need:
        return {"status": TaskStatus.SKIPPED, "detail": not_enough_history(len(history), need)}
    training._write_preprocessing(key=key, history=history)
    result = training.train_one(
        asset=asset, model=task.model, history=history, config=config, version=version
    )
    return _train_fields(result.version, result.skill_score, result.promoted, result.reason)


def _train_fields(
    version: str | None, skill: float | None, promoted: bool, reason: str
) -> dict[str, Any]:
    return {
        "status": TaskStatus.DONE,
        "version": version or "",
        "skill_score": skill,
        "promoted": promoted,
        "detail": reason,
    }


def _issue(task: ForecastRunTask) -> dict[str, Any]:
    params = task.run.params
    count = daily_candle_count(task.asset)
    need = int(params.get("min_history_days") or 0)
    if count < need:
        return {"status": TaskStatus.SKIPPED, "detail": not_enough_history(count, need)}
    report = generate_forecasts(
        symbols=[task.asset_id], models=params["models"], days=params.get("days")
    )
    return {
        "status": TaskStatus.DONE,
        "detail": f"{report.created} created, {report.existing} already issued"[:500],
        "result": {
            "created": report.created,
            "existing": report.existing,
            "fallbacks": report.fallbacks[:20],
            "skipped": report.skipped,
        },
    }


def _finish(task: ForecastRunTask, **fields: Any) -> None:
    fields.setdefault("finished_at", timezone.now())
    if "detail" in fields:
        fields["detail"] = str(fields["detail"])[:500]
    ForecastRunTask.objects.filter(pk=task.pk).update(**fields)
    for name, value in fields.items():
        setattr(task, name, value)
    _maybe_finish_run(task.run_id)


@transaction.atomic
def _maybe_finish_run(run_id: int) -> bool:
    """Close the run when no task is left queued or running (the last finisher wins)."""
    tasks = ForecastRunTask.objects.filter(run_id=run_id)
    if tasks.exclude(status__in=FINAL_TASK_STATUSES).exists():
        return False
    failed = tasks.filter(status=TaskStatus.FAILED).exists()
    won = ForecastRun.objects.filter(pk=run_id, finished_at__isnull=True).update(
        status=RunStatus.PARTIAL if failed else RunStatus.DONE, finished_at=timezone.now()
    )
    if won:
        transaction.on_commit(lambda: _after_run(run_id))
    return bool(won)


def _after_run(run_id: int) -> None:
    run = ForecastRun.objects.get(pk=run_id)
    log.info("forecasts.run_finished", run=run.pk, kind=run.kind, status=run.status)
    response_cache.bump_generation()
    if run.kind != RunKind.TRAIN:
        return
    try:  # the per-task mirrors are scoped; one full pass settles the admin table
        ml_services.sync_registry()
    except Exception as exc:
        log.warning("forecasts.registry_sync_failed", error=repr(exc))
    if run.params.get("issue_after"):
        coins = set(run.tasks.filter(status=TaskStatus.DONE).values_list("asset_id", flat=True))
        if coins:
            issuing_run_start(symbols=sorted(coins))


# --- lost tasks ---------------------------------------------------------------------------------


def reap_lost_tasks(*, kind: str | None = None) -> int:
    """Mark as failed the tasks of unfinished runs that nobody works on any more (their
    message was lost: queued/running for longer than the task time limit and no lease held),
    so their run closes and reports them. Returns how many."""
    limit = max(
        int(getattr(settings, "FORECAST_TRAIN_TASK_SECONDS", 3600)),
        int(getattr(settings, "FORECAST_ISSUE_TASK_SECONDS", 600)),
    )
    cutoff = timezone.now() - timedelta(seconds=2 * limit)
    runs = ForecastRun.objects.filter(finished_at__isnull=True, created_at__lt=cutoff)
    if kind:
        runs = runs.filter(kind=kind)
    reaped = 0
    for task in ForecastRunTask.objects.filter(run__in=runs).exclude(
        status__in=FINAL_TASK_STATUSES
    ):
        if is_held(f"forecasts:run-task:{task.pk}"):
            continue
        _finish(task, status=TaskStatus.FAILED, detail="lost: no worker ran it in time")
        reaped += 1
    return reaped


__all__ = [
    "ISSUE_MODEL",
    "TaskBusy",
    "execute_task",
    "issuing_run_start",
    "min_history_days",
    "reap_lost_tasks",
    "tracked_assets",
    "tracked_assets_register",
    "training_run_start",
]
