"""A staff-only and an admin-only endpoint, to test core.permissions over HTTP."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsAdmin, IsStaff


class StaffOnly(APIView):
    permission_classes = [IsStaff]

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True})


class AdminOnly(APIView):
    permission_classes = [IsAdmin]

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/auth/", include("accounts.urls")),
    path("api/staff-only", StaffOnly.as_view()),
    path("api/admin-only", AdminOnly.as_view()),
]
