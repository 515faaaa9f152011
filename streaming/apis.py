"""``GET /api/v1/stream/snapshot?channels=...``: the current state with the seq to resume from."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from streaming.services import ChannelError, snapshot
from streaming.services.channels import validate
from streaming.services.log import now_iso
from streaming.sse import parse_channels


class ChannelSnapshotSerializer(serializers.Serializer):
    seq = serializers.IntegerField(help_text="resume after this seq (WS resume / Last-Event-ID)")
    key = serializers.CharField(help_text="the item field that identifies an item")
    data = serializers.ListField(child=serializers.DictField())


class SnapshotSerializer(serializers.Serializer):
    ts = serializers.DateTimeField()
    channels = serializers.DictField(child=ChannelSnapshotSerializer())


class SnapshotApi(APIView):
    @extend_schema(
        summary="Current state of stream channels, with the seq to resume from",
        parameters=[
            OpenApiParameter(
                "channels", str, required=True, description="comma-separated, e.g. quotes:bitcoin"
            )
        ],
        responses=SnapshotSerializer,
        tags=["stream"],
    )
    def get(self, request: Request) -> Response:
        user_id = request.user.pk if request.user.is_authenticated else None
        try:
            channels = parse_channels(request.query_params.get("channels", ""), user_id=user_id)
            for channel in channels:
                problem = validate(channel)
                if problem:
                    raise ChannelError("unknown_channel", problem)
        except ChannelError as exc:
            if exc.code == "auth_required":
                raise NotAuthenticated(exc.message) from None
            raise ValidationError({"channels": [exc.message]}, code=exc.code) from None
        out = {}
        for channel in channels:
            snap = snapshot(channel)
            out[channel.public] = {"seq": snap["seq"], "key": snap["key"], "data": snap["data"]}
        return Response({"ts": now_iso(), "channels": out})
