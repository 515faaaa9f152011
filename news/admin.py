"""Admin of `news`: staff manage sources; actions call services."""

from __future__ import annotations

from django.contrib import admin, messages

from accounts import services as accounts_services

from . import services
from .models import Article, FetchRun, SentimentDaily, Source, StoryCluster


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = (
        "slug",
        "name",
        "kind",
        "enabled",
        "poll_interval_seconds",
        "last_success_at",
        "error_count",
        "last_error",
    )
    list_filter = ("kind", "enabled")
    search_fields = ("slug", "name", "url")
    readonly_fields = ("last_polled_at", "last_success_at", "error_count", "last_error")
    actions = ("poll_now",)

    @admin.action(description="Poll the selected sources now")
    def poll_now(self, request, queryset):  # type: ignore[no-untyped-def]
        for source in queryset:
            r = services.source_poll(source=source)
            accounts_services.audit_record(
                action="admin.job_run",
                actor=request.user,
                request=request,
                outcome="success" if r.status in ("ok", "skipped") else "failure",
                target_type="news_source",
                target_id=source.slug,
                data={"task": "news.poll_source", "status": r.status, "stored": r.stored},
            )
            level = messages.SUCCESS if r.status == "ok" else messages.WARNING
            self.message_user(
                request,
                f"{r.source}: {r.status}, {r.stored} new, {r.duplicates} duplicates {r.error}",
                level,
            )


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("title", "source", "published_at", "sentiment_label", "sentiment_score")
    list_filter = ("source", "sentiment_label")
    search_fields = ("title", "url")
    date_hierarchy = "published_at"
    list_select_related = ("source",)
    raw_id_fields = ("cluster",)
    filter_horizontal = ("coins",)


@admin.register(StoryCluster)
class StoryClusterAdmin(admin.ModelAdmin):
    list_display = ("title", "size", "first_seen_at")


@admin.register(FetchRun)
class FetchRunAdmin(admin.ModelAdmin):
    list_display = ("source", "started_at", "ok", "fetched", "stored", "duplicates", "error")
    list_filter = ("ok", "source")
    list_select_related = ("source",)


@admin.register(SentimentDaily)
class SentimentDailyAdmin(admin.ModelAdmin):
    list_display = ("day", "scope", "count", "mean_score", "positive", "neutral", "negative")
    list_filter = ("scope",)
