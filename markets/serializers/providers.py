"""Query validation and (documentation) shapes of the provider operations endpoints (rate
limits, data-source health)."""

from __future__ import annotations

from rest_framework import serializers

from core.openapi import ErrorEnvelopeSerializer


class ProviderQuerySerializer(serializers.Serializer):
    provider = serializers.CharField(required=False, max_length=32)


class ProviderStatusSerializer(serializers.Serializer):
    provider = serializers.CharField()
    configured = serializers.BooleanField()
    note = serializers.CharField(allow_blank=True)
    calls = serializers.IntegerField(required=False)
    ok = serializers.IntegerField(required=False)
    failures = serializers.IntegerField(required=False)
    rate_limited = serializers.IntegerField(required=False)
    budget_exhausted = serializers.IntegerField(required=False)
    circuit_open = serializers.IntegerField(required=False)
    last_success = serializers.DateTimeField(required=False, allow_null=True)
    last_failure = serializers.DateTimeField(required=False, allow_null=True)
    last_error = serializers.CharField(required=False, allow_null=True)
    last_retry_after = serializers.FloatField(required=False, allow_null=True)
    breaker_state = serializers.CharField()
    budget_limit = serializers.IntegerField(allow_null=True)
    budget_left = serializers.IntegerField(allow_null=True)
    budget_window_seconds = serializers.IntegerField(required=False)
    stats_available = serializers.BooleanField(required=False)


class RateLimitStatusSerializer(serializers.Serializer):
    providers = ProviderStatusSerializer(many=True)
    order = serializers.ListField(child=serializers.CharField())


class RecommendationSerializer(serializers.Serializer):
    provider = serializers.CharField()
    severity = serializers.ChoiceField(choices=["ok", "info", "warning", "critical"])
    advice = serializers.CharField()


class RecommendationsSerializer(serializers.Serializer):
    recommendations = RecommendationSerializer(many=True)


class ResetStatsSerializer(serializers.Serializer):
    reset = serializers.ListField(child=serializers.CharField())


class ProviderProbeSerializer(serializers.Serializer):
    provider = serializers.CharField()
    ok = serializers.BooleanField()
    configured = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    retry_after = serializers.FloatField(required=False, allow_null=True)
    latency_ms = serializers.FloatField(required=False)


class DataSourcesHealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["ok", "degraded", "down"])
    providers = ProviderProbeSerializer(many=True)
    checked_at = serializers.DateTimeField()


class DataSourcesDownSerializer(ErrorEnvelopeSerializer):
    """503: the error envelope with the probe report beside it."""

    providers = ProviderProbeSerializer(many=True)
    checked_at = serializers.DateTimeField()
