"""Admin of `alerts`: staff can inspect rules, the event log and the outbox (events are
immutable, so they are read-only here)."""

from django.contrib import admin

from alerts.models import Alert, AlertEvent, Anomaly, Delivery, Watchlist, Webhook


@admin.register(Watchlist)
class WatchlistAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "user", "updated_at")
    search_fields = ("name", "user__email")
    raw_id_fields = ("user",)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "asset", "watchlist", "kind", "trigger", "status", "created_at")
    list_filter = ("status", "kind", "trigger")
    search_fields = ("user__email", "asset__id", "name")
    raw_id_fields = ("user", "asset", "watchlist")


@admin.register(AlertEvent)
class AlertEventAdmin(admin.ModelAdmin):
    list_display = ("id", "alert", "asset", "from_state", "to_state", "value", "source", "as_of")
    list_filter = ("to_state", "notified")
    search_fields = ("asset__id",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "channel", "status", "attempts", "last_status_code", "next_attempt_at")
    list_filter = ("channel", "status")
    raw_id_fields = ("notification", "webhook")


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "url", "is_active", "consecutive_failures")
    list_filter = ("is_active",)
    exclude = ("secret",)
    raw_id_fields = ("user",)


@admin.register(Anomaly)
class AnomalyAdmin(admin.ModelAdmin):
    list_display = ("asset", "open_time", "kind", "score", "value")
    list_filter = ("kind",)
    search_fields = ("asset__id",)
