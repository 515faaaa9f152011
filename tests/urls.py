"""The project's URLs plus a few views that raise each kind of error (tests only)."""

from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns


class _EchoSerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=10)


class ValidatingView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def post(self, request):  # type: ignore[no-untyped-def]
        serializer = _EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data)


class ThrottledView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "test-tight"

    def get(self, request):  # type: ignore[no-untyped-def]
        return Response({"ok": True})


class BoomView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):  # type: ignore[no-untyped-def]
        raise RuntimeError("secret internal detail")


def plain_boom(request):  # type: ignore[no-untyped-def]
    raise RuntimeError("secret internal detail")


urlpatterns = [
    path("api/v1/_test/validate", ValidatingView.as_view()),
    path("api/v1/_test/throttled", ThrottledView.as_view()),
    path("api/v1/_test/boom", BoomView.as_view()),
    path("_test/plain-boom", plain_boom),
    *project_urlpatterns,
]
handler404 = "core.views.handler404"
handler500 = "core.views.handler500"
