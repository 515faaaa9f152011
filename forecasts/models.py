"""Models of `forecasts`.

``Forecast`` is the archive of every forecast issued (the seed's "predictions" table). Rows
are immutable once issued: they are only ever created by ``forecasts.services`` and the
only later write is filling ``actual``/``error`` when the target day has passed (a queryset
``update`` in ``fill_actuals``). The admin shows them read-only. No ``save()`` side effects.

Prices are IEEE doubles (``float``), like everywhere in cryptocast.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

#: the only fields that may change after a forecast is issued
OUTCOME_FIELDS = frozenset({"actual", "error", "actual_filled_at"})


class ImmutableForecastError(Exception):
    """Something tried to change an issued forecast."""


class ForecastQuerySet(models.QuerySet):
    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        """Bulk updates may only fill in outcomes; the forecast itself never changes."""
        refused = sorted(set(kwargs) - OUTCOME_FIELDS)
        if refused:
            raise ImmutableForecastError(
                f"issued forecasts are immutable; refused fields: {refused}"
            )
        return super().update(**kwargs)


class Forecast(models.Model):
    asset = models.ForeignKey(
        "markets.Asset",
        on_delete=models.PROTECT,  # an archive must not vanish with its asset
        related_name="forecasts",
    )
    requested_model = models.CharField(
        max_length=32,
        help_text="What a client asks for (``auto``, ``lightgbm`` ...).",
    )
    model = models.CharField(max_length=32, help_text="The model that produced the numbers.")
    model_version = models.CharField(max_length=64, blank=True)
    fallback_reason = models.CharField(
        max_length=255,
        blank=True,
        help_text="Blank unless the requested model could not be served (e.g. refused artifact).",
    )
    issued_at = models.DateTimeField()
    data_until = models.DateTimeField(
        help_text="open_time of the last daily candle used (the origin; its close included)."
    )
    target_time = models.DateTimeField(
        help_text="open_time of the daily candle whose close is forecast."
    )
    horizon = models.PositiveSmallIntegerField(help_text="Days from the origin to the target.")
    last_close = models.FloatField(help_text="Close at the origin.")
    point = models.FloatField()
    intervals = models.JSONField(
        default=dict, help_text='Bounds per level: {"80": [lower, upper], "90": [...], "95": [...]}'
    )
    skill = models.JSONField(
        default=dict,
        blank=True,
        help_text="Walk-forward skill at this horizon when issued (mase, rel_mae, coverage).",
    )
    trained_at = models.DateTimeField(null=True, blank=True)
    features_hash = models.CharField(max_length=64, blank=True)
    actual = models.FloatField(null=True, blank=True)
    error = models.FloatField(null=True, blank=True, help_text="actual - point")
    actual_filled_at = models.DateTimeField(null=True, blank=True)

    objects = ForecastQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "requested_model", "data_until", "horizon"],
                name="forecast_unique_issue",
            ),
            models.CheckConstraint(condition=Q(horizon__gte=1), name="forecast_horizon_positive"),
            models.CheckConstraint(condition=Q(point__gt=0), name="forecast_point_positive"),
            models.CheckConstraint(
                condition=Q(target_time__gt=models.F("data_until")),
                name="forecast_target_after_origin",
            ),
        ]
        indexes = [
            # the API: latest issue of one model for one asset
            models.Index(
                fields=["asset", "requested_model", "-data_until"], name="forecast_latest_idx"
            ),
            # fill_actuals: rows still waiting for their actual
            models.Index(
                fields=["target_time"],
                condition=Q(actual__isnull=True),
                name="forecast_pending_idx",
            ),
            # live accuracy: scored rows per model
            models.Index(
                fields=["asset", "model", "horizon"],
                condition=Q(actual__isnull=False),
                name="forecast_scored_idx",
            ),
        ]
        ordering = ["-data_until", "asset_id", "requested_model", "horizon"]

    def __str__(self) -> str:
        return (
            f"{self.asset_id} {self.requested_model}->{self.model} h{self.horizon} "
            f"@ {self.data_until:%Y-%m-%d}"
        )

    def bounds(self, level: int | str) -> tuple[float, float] | None:
        pair = (self.intervals or {}).get(str(level))
        return (float(pair[0]), float(pair[1])) if pair else None


class RunKind(models.TextChoices):
    TRAIN = "train", "training"
    ISSUE = "issue", "issuing"


class RunStatus(models.TextChoices):
    RUNNING = "running", "running"
    DONE = "done", "done"
    PARTIAL = "partial", "done with failures"


class TaskStatus(models.TextChoices):
    QUEUED = "queued", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    SKIPPED = "skipped", "skipped"


#: statuses a task never leaves
FINAL_TASK_STATUSES = (TaskStatus.DONE, TaskStatus.FAILED, TaskStatus.SKIPPED)


class ForecastRun(models.Model):
    """One fanned-out training or issuing run: a row per (coin, model type) in ``tasks``.

    Written only by ``forecasts.services.fanout``; it is the report of the run (which tasks
    finished, failed or were skipped, and why), not a lock: locks live in ``core.locks``.
    """

    kind = models.CharField(max_length=8, choices=RunKind.choices)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    params = models.JSONField(default=dict, blank=True, help_text="Horizons, windows, models.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "-created_at"], name="forecast_run_latest_idx")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} ({self.status})"


class ForecastRunTask(models.Model):
    """One (coin, model type) of a run (issuing runs: one per coin, ``model="*"``)."""

    run = models.ForeignKey(ForecastRun, on_delete=models.CASCADE, related_name="tasks")
    asset = models.ForeignKey("markets.Asset", on_delete=models.CASCADE, related_name="+")
    model = models.CharField(max_length=32)
    status = models.CharField(max_length=8, choices=TaskStatus.choices, default=TaskStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True, help_text="Duration of the last attempt.")
    version = models.CharField(max_length=64, blank=True)
    skill_score = models.FloatField(
        null=True, blank=True, help_text="Mean walk-forward relMAE vs naive (<1 beats naive)."
    )
    promoted = models.BooleanField(null=True, blank=True)
    detail = models.CharField(
        max_length=500, blank=True, help_text="Why: promotion reason, skip reason or error."
    )
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["run", "asset", "model"], name="forecast_run_task_unique"
            )
        ]
        indexes = [models.Index(fields=["run", "status"], name="forecast_run_task_status_idx")]
        ordering = ["run_id", "asset_id", "model"]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.asset_id}/{self.model} ({self.status})"
