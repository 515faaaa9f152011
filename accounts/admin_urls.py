"""Admin-only API routes of `accounts`, mounted at `/api/v1/admin/` by `config.urls`."""

from django.urls import path

from . import apis

app_name = "accounts-admin"

urlpatterns = [
    path("users/<int:user_id>/role", apis.AdminUserRoleApi.as_view(), name="user-role"),
]
