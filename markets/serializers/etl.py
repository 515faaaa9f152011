"""Serializers of the ETL jobs (beat rows) and their runs."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class JobRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job = serializers.CharField()
    task_id = serializers.CharField()
    status = serializers.CharField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    detail = serializers.JSONField()


class EtlJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    task = serializers.CharField()
    enabled = serializers.BooleanField()
    schedule = serializers.SerializerMethodField()
    kwargs = serializers.JSONField()
    description = serializers.CharField()
    last_run_at = serializers.DateTimeField(allow_null=True)
    total_run_count = serializers.IntegerField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_schedule(self, task) -> str:  # type: ignore[no-untyped-def]
        return str(task.interval or task.crontab or task.solar or task.clocked or "")


class EtlJobDetailSerializer(EtlJobSerializer):
    recent_runs = serializers.SerializerMethodField()

    @extend_schema_field(JobRunSerializer(many=True))
    def get_recent_runs(self, task):  # type: ignore[no-untyped-def]
        return JobRunSerializer(self.context.get("runs", []), many=True).data


class EtlStatusSerializer(serializers.Serializer):
    jobs_total = serializers.IntegerField()
    jobs_enabled = serializers.IntegerField()
    runs_24h = serializers.DictField(child=serializers.IntegerField())
    last_runs = JobRunSerializer(many=True)
    newest_quote_as_of = serializers.DateTimeField(allow_null=True)
    quotes_stale = serializers.BooleanField()
    latest_candles = serializers.DictField(child=serializers.DateTimeField(allow_null=True))
    assets = serializers.IntegerField()
