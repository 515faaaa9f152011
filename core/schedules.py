"""A registry of periodic jobs, written to django-celery-beat rows by ``manage.py setup_schedule``.

Apps register their jobs from ``AppConfig.ready()`` (core never imports them)::

    from core.schedules import PeriodicJob, register
    register(PeriodicJob(name="markets: quotes top 50", task="markets.tasks.sync_quotes",
                         every_seconds=60, kwargs={"top": 50}))

``settings.CELERY_BEAT_JOBS`` (a dict name -> fields) adds jobs or overrides registered ones
(``{"enabled": False}`` switches one off) without code changes. Beat reads the rows from the
database, so staff edit them in the admin; ``setup_schedule`` never overwrites a staff edit
unless asked to (``--reset``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month_of_year day_of_week" (UTC)
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    enabled: bool = True
    expire_seconds: int | None = None  # drop a run still queued after this long
    queue: str | None = None

    def __post_init__(self) -> None:
        if (self.every_seconds is None) == (self.crontab is None):
            raise ValueError(f"{self.name}: give exactly one of every_seconds or crontab")
        if self.crontab is not None and len(self.crontab.split()) != 5:
            raise ValueError(f"{self.name}: crontab needs 5 fields, got {self.crontab!r}")


_JOBS: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> None:
    _JOBS[job.name] = job


def registered_jobs() -> list[PeriodicJob]:
    """Registered jobs with ``CELERY_BEAT_JOBS`` overrides/additions applied."""
    jobs = dict(_JOBS)
    for name, overrides in (getattr(settings, "CELERY_BEAT_JOBS", None) or {}).items():
        base = jobs.get(name)
        jobs[name] = replace(base, **overrides) if base else PeriodicJob(name=name, **overrides)
    return sorted(jobs.values(), key=lambda j: j.name)


@dataclass
class ScheduleReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _schedule_for(job: PeriodicJob) -> dict[str, Any]:
    # deferred: every AppConfig module imports this one to register its jobs, before the app
    # registry is ready, and beat's models cannot be imported then
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule

    if job.every_seconds is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=job.every_seconds, period=IntervalSchedule.SECONDS
        )
        return {"interval": interval, "crontab": None}
    minute, hour, dom, month, dow = job.crontab.split()  # type: ignore[union-attr]
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=dom,
        month_of_year=month,
        day_of_week=dow,
        timezone="UTC",
    )
    return {"interval": None, "crontab": crontab}


@transaction.atomic
def setup_schedule(*, jobs: list[PeriodicJob] | None = None, reset: bool = False) -> ScheduleReport:
    """Create the PeriodicTask row of every job that has none (idempotent).

    Existing rows are kept as staff left them; ``reset=True`` rewrites them from the registry.
    """
    from django_celery_beat.models import PeriodicTask  # deferred: see _schedule_for

    report = ScheduleReport()
    for job in jobs if jobs is not None else registered_jobs():
        values = {
            "task": job.task,
            "kwargs": json.dumps(job.kwargs, sort_keys=True),
            "description": job.description,
            "enabled": job.enabled,
            "expire_seconds": job.expire_seconds,
            "queue": job.queue,
            **_schedule_for(job),
        }
        existing = PeriodicTask.objects.filter(name=job.name).first()
        if existing is None:
            PeriodicTask.objects.create(name=job.name, **values)
            report.created.append(job.name)
        elif reset:
            for attr, value in values.items():
                setattr(existing, attr, value)
            existing.save()
            report.updated.append(job.name)
        else:
            report.kept.append(job.name)
    return report
