from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from core.permissions import has_role

from . import services
from .models import ApiKey, AuditEvent, DataExport, TokenFamily, User


def _set_role(
    admin_view: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User], role: str
) -> None:
    if not has_role(request.user, "admin"):
        admin_view.message_user(request, "Only administrators change roles.", messages.ERROR)
        return
    changed = 0
    for user in queryset.prefetch_related("groups"):
        try:
            services.user_role_set(user=user, role=role, actor=request.user, request=request)  # type: ignore[arg-type]
        except services.LastAdmin:
            admin_view.message_user(
                request, f"{user.email}: the last administrator keeps the role.", messages.ERROR
            )
            continue
        changed += 1
    admin_view.message_user(request, f"{changed} user(s) now have the role {role!r}.")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = [
        "email",
        "display_name",
        "role",
        "is_active",
        "email_verified",
        "date_joined",
    ]
    # Roles change only through the actions below (audited, the last admin is protected).
    actions = [
        "make_user",
        "make_analyst",
        "make_staff",
        "make_admin",
        "turn_off_two_factor",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "email_verified", "groups"]
    search_fields = ["email", "display_name"]
    readonly_fields = [
        "date_joined",
        "last_login",
        "role",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
    ]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "email_verified")}),
        (
            "Permissions",
            {
                "fields": (
                    "role",
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role(self, obj: User) -> str:
        return services.user_role(obj)

    @admin.action(description="Set role: user")
    def make_user(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_role(self, request, queryset, "user")

    @admin.action(description="Set role: analyst")
    def make_analyst(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_role(self, request, queryset, "analyst")

    @admin.action(description="Set role: staff")
    def make_staff(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_role(self, request, queryset, "staff")

    @admin.action(description="Set role: admin")
    def make_admin(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _set_role(self, request, queryset, "admin")

    @admin.action(description="Turn off two-factor authentication (lost device)")
    def turn_off_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        done = sum(
            services.mfa_reset(user=user, actor=request.user, request=request)  # type: ignore[arg-type]
            for user in queryset
        )
        self.message_user(request, f"Two-factor authentication turned off for {done} user(s).")


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
            services.audit_record(
                action="tokens.revoked_by_staff", user=user, actor=request.user, request=request
            )
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


# --- two-factor sign-in to the admin ----------------------------------------------------------
class MfaAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in plus the 2FA code: an account with 2FA on must give a TOTP or a
    recovery code (single use; a wrong one counts toward the lockout like a wrong password),
    and with ``MFA_REQUIRED_FOR_STAFF`` staff without 2FA are refused until they turn it on
    (``POST /api/v1/auth/mfa/totp``)."""

    otp_code = forms.CharField(
        label="Two-factor code",
        required=False,
        max_length=64,
        strip=True,
        help_text="From your authenticator app, or a recovery code (accounts with 2FA on).",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        user = self.get_user()
        if user is None:
            return cleaned
        if services.mfa_enabled(user):
            try:
                ok = services.mfa_code_check(
                    request=self.request,  # type: ignore[arg-type]
                    user=user,  # type: ignore[arg-type]
                    code=cleaned.get("otp_code") or "",
                    action="admin.signin.mfa",
                )
            except services.AccountLocked as exc:
                raise forms.ValidationError(
                    "Too many failed sign-in attempts; try again later.", code="account_locked"
                ) from exc
            if not ok:
                raise forms.ValidationError(
                    "Enter a valid, unused two-factor code.", code="invalid_mfa_code"
                )
        elif settings.MFA_REQUIRED_FOR_STAFF:
            raise forms.ValidationError(
                "Two-factor authentication is required for staff: turn it on first "
                "(POST /api/v1/auth/mfa/totp).",
                code="mfa_required",
            )
        return cleaned


admin.site.login_form = MfaAdminAuthenticationForm
admin.site.login_template = "accounts/admin_login.html"


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: rows are only ever added by services and removed by the retention job."""

    list_display = [
        "created_at",
        "action",
        "outcome",
        "user",
        "actor",
        "target_type",
        "target_id",
        "ip",
    ]
    list_filter = ["outcome", "action", "target_type", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__email", "actor__email", "action", "target_id", "ip", "request_id"]
    list_select_related = ["user", "actor"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "created_at", "finished_at", "expires_at", "size_bytes"]
    list_filter = ["status"]
    search_fields = ["user__email", "id"]
    list_select_related = ["user"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in DataExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
