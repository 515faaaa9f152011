"""Serializers of the staff writes: a quote sync request, a CSV upload and its report."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from markets.models import Interval


class SyncRequestSerializer(serializers.Serializer):
    top = serializers.IntegerField(min_value=1, max_value=1000, default=50)
    provider = serializers.CharField(required=False, allow_null=True, default=None, max_length=32)


class TaskEnqueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    task = serializers.CharField()
    status = serializers.CharField()


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV or CSV.gz: date|timestamp,open,high,low,close,volume"
    )
    interval = serializers.ChoiceField(choices=Interval.choices, default=Interval.D1)
    symbol = serializers.RegexField(r"^[A-Za-z0-9]{1,32}$", required=False, default=None)

    def validate_file(self, value):  # type: ignore[no-untyped-def]
        limit = settings.MARKETS_IMPORT_MAX_UPLOAD_BYTES
        if value.size > limit:
            raise serializers.ValidationError(f"file is larger than {limit} bytes")
        return value


class RowErrorSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    message = serializers.CharField()
    field = serializers.CharField(allow_null=True)


class FileReportSerializer(serializers.Serializer):
    file = serializers.CharField()
    symbol = serializers.CharField()
    interval = serializers.CharField()
    asset_id = serializers.CharField(allow_null=True)
    rows = serializers.IntegerField()
    written = serializers.IntegerField()
    accepted = serializers.BooleanField()
    error_count = serializers.IntegerField()
    errors = RowErrorSerializer(many=True)
    errors_truncated = serializers.BooleanField()
    first = serializers.CharField(allow_null=True)
    last = serializers.CharField(allow_null=True)


class ImportReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    written = serializers.IntegerField()
    files = FileReportSerializer(many=True)
