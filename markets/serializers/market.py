"""Serializers of the whole-market reads (global figures, trending, market data)."""

from __future__ import annotations

from rest_framework import serializers

from .assets import AssetSerializer


class ProvenanceSerializer(serializers.Serializer):
    source = serializers.CharField()
    as_of = serializers.DateTimeField(allow_null=True)
    fetched_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()
    fallback_reason = serializers.CharField(allow_blank=True)


class GlobalMarketSerializer(ProvenanceSerializer):
    total_market_cap = serializers.FloatField(allow_null=True, help_text="null when unknown")
    total_volume_24h = serializers.FloatField(allow_null=True, help_text="null when unknown")
    market_cap_change_24h = serializers.FloatField(allow_null=True)
    dominance = serializers.DictField(child=serializers.FloatField())
    active_cryptocurrencies = serializers.IntegerField(allow_null=True)


class TrendingCoinSerializer(serializers.Serializer):
    id = serializers.CharField()
    symbol = serializers.CharField()
    name = serializers.CharField()
    score = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)
    price = serializers.FloatField(allow_null=True)


class TrendingSerializer(ProvenanceSerializer):
    coins = TrendingCoinSerializer(many=True)


class MarketDataQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=200, default=20)


class MarketDataSerializer(serializers.Serializer):
    market = GlobalMarketSerializer()
    assets = AssetSerializer(many=True)
