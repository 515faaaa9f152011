"""Admin of core's own rows: the job-run log (read-only; runs are written by ``job_run``)."""

from __future__ import annotations

from django.contrib import admin

from .models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ("job", "status", "started_at", "finished_at", "task_id")
    list_filter = ("status",)
    search_fields = ("job", "task_id")
    readonly_fields = ("job", "task_id", "status", "started_at", "finished_at", "detail")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
