from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import ApiKey, TokenFamily, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "is_active",
        "is_staff",
        "email_verified",
        "date_joined",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "email_verified", "groups"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "email_verified")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(TokenFamily)
class TokenFamilyAdmin(admin.ModelAdmin):
    """Sign-ins; staff can revoke one (the user is signed out on the next request)."""

    list_display = ["id", "user", "method", "created_at", "revoked_at", "revoke_reason"]
    list_filter = ["method", "revoke_reason"]
    search_fields = ["user__email", "id"]
    list_select_related = ["user"]
    readonly_fields = ["id", "user", "method", "created_at", "revoked_at", "revoke_reason"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke the selected sign-ins")
    def revoke(self, request: HttpRequest, queryset: QuerySet[TokenFamily]) -> None:
        users = {family.user for family in queryset.select_related("user")}
        for user in users:
            services.tokens_revoke_all(user=user, reason=TokenFamily.Reason.LOGOUT)
        self.message_user(request, f"Revoked every sign-in of {len(users)} user(s).")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    search_fields = ["user__email", "name", "prefix"]
    list_select_related = ["user"]
    exclude = ["digest"]
    readonly_fields = ["id", "user", "name", "prefix", "created_at", "expires_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
