"""Admin of `forecasts`: the forecast archive, read-only (issued forecasts are immutable)."""

from django.contrib import admin

from forecasts.models import Forecast


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
