from django.contrib import admin

from .models import ExchangeRate


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    list_display = ("day", "currency", "rate", "source", "fetched_at")
    list_filter = ("currency", "source")
    date_hierarchy = "day"
    ordering = ("-day", "currency")
    readonly_fields = ("currency", "day", "rate", "source", "fetched_at")
