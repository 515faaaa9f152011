"""Admin of `forecasts`: the forecast archive, read-only (issued forecasts are immutable)."""

from django.contrib import admin

from forecasts import selectors
from forecasts.models import Forecast, ForecastRun, ForecastRunTask


@admin.register(Forecast)
class ForecastAdmin(admin.ModelAdmin):
    list_display = (
        "asset",
        "requested_model",
        "model",
        "model_version",
        "horizon",
        "data_until",
        "target_time",
        "point",
        "actual",
        "error",
        "has_fallback",
    )
    list_filter = ("requested_model", "model", "horizon", ("actual", admin.EmptyFieldListFilter))
    search_fields = ("asset__id", "asset__symbol", "model_version", "fallback_reason")
    date_hierarchy = "data_until"
    list_select_related = ("asset",)
    readonly_fields = [f.name for f in Forecast._meta.fields]
    show_full_result_count = False

    @admin.display(boolean=True, description="fallback")
    def has_fallback(self, obj: Forecast) -> bool:
        return bool(obj.fallback_reason)

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


class ForecastRunTaskInline(admin.TabularInline):
    model = ForecastRunTask
    fields = (
        "asset",
        "model",
        "status",
        "attempts",
        "seconds",
        "version",
        "skill_score",
        "promoted",
        "detail",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False


@admin.register(ForecastRun)
class ForecastRunAdmin(admin.ModelAdmin):
    """Fanned-out training/issuing runs: per (coin, model) status, duration, skill vs naive,
    promoted or not, and why (read-only: the tasks write them)."""

    list_display = ("id", "kind", "status", "created_at", "finished_at", "task_counts")
    list_filter = ("kind", "status")
    readonly_fields = ("kind", "status", "params", "created_at", "finished_at")
    inlines = [ForecastRunTaskInline]

    @admin.display(description="tasks (done/failed/skipped/pending)")
    def task_counts(self, obj: ForecastRun) -> str:
        c = selectors.run_summary(run=obj)["counts"]
        pending = c.get("queued", 0) + c.get("running", 0)
        return f"{c.get('done', 0)}/{c.get('failed', 0)}/{c.get('skipped', 0)}/{pending}"

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
