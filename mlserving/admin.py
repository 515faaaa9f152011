"""Admin of `mlserving`: the model registry (versions, metrics, aliases), promote/rollback."""

from django.contrib import admin, messages

from accounts import services as accounts_services
from mlserving import services
from mlserving.models import ModelVersion


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ("key", "model", "version", "aliases", "skill_score", "format", "trained_at")
    list_filter = ("model", "key", "format")
    search_fields = ("key", "model", "version", "aliases")
    ordering = ("key", "model", "-version")
    readonly_fields = [f.name for f in ModelVersion._meta.fields]
    actions = ("promote_selected", "force_promote_selected", "rollback_selected", "resync")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False

    def _report(self, request, result, *, action: str, version: str = "") -> None:  # type: ignore[no-untyped-def]
        level = messages.SUCCESS if result.promoted else messages.WARNING
        self.message_user(request, f"{result.key}/{result.model}: {result.reason}", level)
        # every attempt leaves an audit row: done or refused by the skill rule, and why
        accounts_services.audit_record(
            action=action,
            actor=request.user,
            request=request,
            outcome="success" if result.promoted else "failure",
            target_type="model",
            target_id=f"{result.key}/{result.model}",
            data={
                "version": version,
                "champion": result.champion,
                "reason": result.reason,
                "challenger_skill": result.challenger_skill,
                "champion_skill": result.champion_skill,
            },
        )

    def _refused(self, request, exc, *, action: str, row) -> None:  # type: ignore[no-untyped-def]
        self.message_user(request, str(exc), messages.ERROR)
        accounts_services.audit_record(
            action=action,
            actor=request.user,
            request=request,
            outcome="failure",
            target_type="model",
            target_id=f"{row.key}/{row.model}",
            data={"version": row.version, "reason": str(exc)},
        )

    @admin.action(description="Promote to champion (only if its walk-forward skill is better)")
    def promote_selected(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        for row in queryset:
            try:
                self._report(
                    request,
                    services.promote(key=row.key, model=row.model, version=row.version),
                    action="model.promote",
                    version=row.version,
                )
            except services.RegistryError as exc:
                self._refused(request, exc, action="model.promote", row=row)

    @admin.action(description="Force promote to champion (overrides the skill rule)")
    def force_promote_selected(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        for row in queryset:
            try:
                self._report(
                    request,
                    services.promote(key=row.key, model=row.model, version=row.version, force=True),
                    action="model.force_promote",
                    version=row.version,
                )
            except services.RegistryError as exc:
                self._refused(request, exc, action="model.force_promote", row=row)

    @admin.action(description="Roll back champion to the previous champion")
    def rollback_selected(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        done: set[tuple[str, str]] = set()
        for row in queryset:
            if (row.key, row.model) in done:
                continue
            done.add((row.key, row.model))
            try:
                self._report(
                    request,
                    services.rollback(key=row.key, model=row.model),
                    action="model.rollback",
                )
            except services.RegistryError as exc:
                self._refused(request, exc, action="model.rollback", row=row)

    @admin.action(description="Re-read the manifest into this table")
    def resync(self, request, queryset) -> None:  # type: ignore[no-untyped-def]
        mirrored = services.sync_registry()
        self.message_user(request, f"{mirrored} versions mirrored")
        accounts_services.audit_record(
            action="model.registry_resync",
            actor=request.user,
            request=request,
            target_type="registry",
            data={"versions": mirrored},
        )
