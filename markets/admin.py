"""Admin of `markets`: search and filters everywhere; actions enqueue services' tasks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction

from accounts import services as accounts_services
from core.enqueue import task_send_on_commit

from .models import Asset, Candle, Interval, Quote


class BackfillParamsForm(forms.Form):
    interval = forms.ChoiceField(choices=Interval.choices, initial=Interval.D1, required=False)
    since = forms.DateField(required=False, help_text="Backfill from (YYYY-MM-DD)")
    until = forms.DateField(required=False, help_text="Backfill until (default: now)")


class AssetActionForm(ActionForm, BackfillParamsForm):
    """The action bar with the backfill range fields next to the action selector."""


@admin.register(Asset)
class AssetAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "symbol",
        "name",
        "rank",
        "is_active",
        "price",
        "quote_source",
        "quote_as_of",
    )
    list_filter = ("is_active",)
    search_fields = ("id", "symbol", "name", "coingecko_id", "binance_symbol")
    list_select_related = ("latest_quote",)
    raw_id_fields = ("latest_quote",)
    readonly_fields = ("created_at", "updated_at")
    ordering = ("rank", "id")
    action_form = AssetActionForm
    actions = ("resync_quotes", "backfill_candles")

    @admin.display(description="price", ordering="latest_quote__price")
    def price(self, obj: Asset) -> float | None:
        return obj.latest_quote.price if obj.latest_quote else None

    @admin.display(description="source")
    def quote_source(self, obj: Asset) -> str:
        return obj.latest_quote.source if obj.latest_quote else ""

    @admin.display(description="as of", ordering="latest_quote__as_of")
    def quote_as_of(self, obj: Asset) -> datetime | None:
        return obj.latest_quote.as_of if obj.latest_quote else None

    @admin.action(description="Resync quotes of the selected assets (queued)")
    def resync_quotes(self, request, queryset):  # type: ignore[no-untyped-def]
        ids = list(queryset.values_list("pk", flat=True)[:250])
        with transaction.atomic():
            task_id = task_send_on_commit("markets.sync_assets", kwargs={"asset_ids": ids})
            accounts_services.audit_record(
                action="admin.job_run",
                actor=request.user,
                request=request,
                target_type="task",
                target_id=task_id,
                data={"task": "markets.sync_assets", "assets": len(ids)},
            )
        self.message_user(request, f"Resync of {len(ids)} asset(s) queued (task {task_id}).")

    @admin.action(description="Backfill candles (interval/since/until above; queued)")
    def backfill_candles(self, request, queryset):  # type: ignore[no-untyped-def]
        form = BackfillParamsForm(request.POST)
        if not form.is_valid() or not form.cleaned_data.get("since"):
            self.message_user(request, "Give a 'since' date for the backfill.", messages.ERROR)
            return
        interval = form.cleaned_data.get("interval") or Interval.D1
        since = datetime.combine(form.cleaned_data["since"], time.min, tzinfo=UTC)
        until_date = form.cleaned_data.get("until")
        until = (
            datetime.combine(until_date, time.min, tzinfo=UTC)
            + timedelta(days=1)
            - timedelta(seconds=1)
            if until_date
            else None
        )
        queued = skipped = 0
        with transaction.atomic():
            for asset in queryset:
                if not asset.binance_symbol:
                    skipped += 1
                    continue
                task_send_on_commit(
                    "markets.backfill_candles",
                    kwargs={
                        "asset_id": asset.pk,
                        "interval": interval,
                        "since": since.isoformat(),
                        "until": until.isoformat() if until else None,
                    },
                )
                queued += 1
            accounts_services.audit_record(
                action="admin.job_run",
                actor=request.user,
                request=request,
                target_type="task",
                data={
                    "task": "markets.backfill_candles",
                    "interval": interval,
                    "since": since.date().isoformat(),
                    "assets": queued,
                },
            )
        self.message_user(
            request,
            f"Backfill {interval} from {since:%Y-%m-%d} queued for {queued} asset(s)"
            + (f"; {skipped} without a Binance pair skipped." if skipped else "."),
        )


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = (
        "asset",
        "price",
        "market_cap",
        "change_24h",
        "source",
        "as_of",
        "fetched_at",
        "fallback_reason",
    )
    list_filter = ("source",)
    search_fields = ("asset__id", "asset__symbol")
    list_select_related = ("asset",)
    raw_id_fields = ("asset",)
    show_full_result_count = False  # history tables are large: skip the COUNT(*)


@admin.register(Candle)
class CandleAdmin(admin.ModelAdmin):
    list_display = (
        "asset",
        "interval",
        "open_time",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "source",
    )
    list_filter = ("interval", "source")
    search_fields = ("asset__id", "asset__symbol")
    list_select_related = ("asset",)
    raw_id_fields = ("asset",)
    ordering = ("-open_time",)
    show_full_result_count = False
