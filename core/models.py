"""Base model mixins shared by every app, and the kernel's own rows (locks, job runs, health)."""

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Lock(models.Model):
    """A named lease held by one process until ``expires_at`` (see ``core.locks``).

    The database fallback when no Redis is configured: a row, never per-process memory,
    so two workers (or a worker and a management command) still exclude each other.
    """

    name = models.CharField(primary_key=True, max_length=200)
    owner = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)
    acquired_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.owner} until {self.expires_at:%H:%M:%S}"


class HealthSample(models.Model):
    """One component's health at one instant, written by the ``core.record_health`` beat job.

    Bounded: the same job deletes samples older than ``HEALTH_SAMPLE_RETENTION_HOURS``.
    """

    component = models.CharField(max_length=64)
    at = models.DateTimeField()
    ok = models.BooleanField()
    latency_ms = models.FloatField(null=True)
    detail = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["component", "-at"], name="core_health_comp_at"),
            models.Index(fields=["at"], name="core_health_at"),
        ]

    def __str__(self) -> str:
        return f"{self.component} {'ok' if self.ok else 'down'} at {self.at:%Y-%m-%d %H:%M:%S}"


class JobRun(models.Model):
    """One execution of a periodic job (a Celery task) under its lock, written by
    ``core.services.job_run`` for every app's tasks; read by ``/api/v1/etl/*`` and the admin.

    The table keeps the name it had when markets owned the model (moved without a copy).
    """

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"
        SKIPPED = "skipped"  # another run held the lock

    job = models.CharField(max_length=200, db_index=True)
    task_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "markets_jobrun"
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["job", "-started_at"], name="markets_jobrun_job_started")]

    def __str__(self) -> str:
        return f"{self.job} {self.status} {self.started_at:%Y-%m-%d %H:%M:%S}"
